"""Score weight events against simulator ground truth (bench/weighing.py and the replay tests).

An event matches a true interaction (pick/put/restock) when it has the same plates, the same
sign and lies within `slack_s` (2 s) of the interaction's [t_start, t_settled]; matching is one
to one, closest settle time first. Then, as the weighing contract allows, one event whose delta
equals the total of several overlapping interactions (two quick picks) matches them all, and
several events that add up to one interaction (a restock placed in steps) match it.
Unmatched events are false events, and are attributed to a
bump or lean when they fall inside one while no real interaction touched their plates. Truth
records only need the fields read here (duck typed, so this module does not depend on the
simulator).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Protocol

from edge.model import WeightEvent


class TruthLike(Protocol):
    kind: str
    t_start: float
    t_settled: float
    plates: dict[str, float]
    expect_event: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Match:
    """One true interaction and its event; or (merged) several interactions one event reports
    with the right total, e.g. two quick picks; or (split) one interaction reported in parts."""

    truths: tuple[Any, ...]
    events: tuple[tuple[float, WeightEvent], ...]  # (emit time, event)

    @property
    def true_delta_g(self) -> float:
        return sum(sum(r.plates.values()) for r in self.truths)

    @property
    def error_g(self) -> float:
        return sum(e.delta_g for _, e in self.events) - self.true_delta_g

    @property
    def within_tolerance(self) -> bool:
        return abs(self.error_g) <= tolerance_g(self.true_delta_g)

    @property
    def latency_s(self) -> float:
        return max(t for t, _ in self.events) - max(r.t_settled for r in self.truths)


def tolerance_g(true_delta: float) -> float:
    """What 'right' means for a delta: +-max(2 g, 2 % of it) (well under half of any item)."""
    return max(2.0, 0.02 * abs(true_delta))


def _compatible(event: WeightEvent, record: Any, slack_s: float, any_sign: bool = False) -> bool:
    """Same plates, same sign (unless `any_sign`: a restock and a pick merged), close in time."""
    total = sum(record.plates.values())
    if set(event.plate_deltas) != set(record.plates) or (not any_sign and (event.delta_g > 0) != (total > 0)):
        return False
    return not (event.t_end < record.t_start - slack_s or event.t_start > record.t_settled + slack_s)


def match_events(events: list[tuple[float, WeightEvent]], truth: list[Any], slack_s: float = 2.0
                 ) -> tuple[list[Match], list[tuple[float, WeightEvent]], list[Any]]:
    """(matches, unmatched events, unmatched interactions): one to one with the right delta first,
    then merges and splits whose totals agree, then one to one whatever the delta."""
    wanted = [r for r in truth if r.expect_event]
    pairs = sorted(
        (abs(event.t_end - record.t_settled), i, j)
        for i, (_, event) in enumerate(events)
        for j, record in enumerate(wanted)
        if _compatible(event, record, slack_s)
    )
    used_events: set[int] = set()
    used_truth: set[int] = set()
    matches: list[Match] = []

    def one_to_one(right_delta_only: bool) -> None:
        for _, i, j in pairs:
            if i in used_events or j in used_truth:
                continue
            match = Match((wanted[j],), (events[i],))
            if right_delta_only and not match.within_tolerance:
                continue
            used_events.add(i)
            used_truth.add(j)
            matches.append(match)

    one_to_one(right_delta_only=True)
    for i, (_, event) in enumerate(events):  # one event for several interactions (merged)
        if i in used_events:
            continue
        group = [
            j for j, r in enumerate(wanted) if j not in used_truth and _compatible(event, r, slack_s, any_sign=True)
        ]
        total = sum(sum(wanted[j].plates.values()) for j in group)
        if len(group) >= 2 and abs(event.delta_g - total) <= tolerance_g(total):
            used_events.add(i)
            used_truth.update(group)
            matches.append(Match(tuple(wanted[j] for j in group), (events[i],)))
    for j, record in enumerate(wanted):  # one interaction reported in several events (split)
        if j in used_truth:
            continue
        parts = [i for i, (_, e) in enumerate(events) if i not in used_events and _compatible(e, record, slack_s)]
        total = sum(events[i][1].delta_g for i in parts)
        true_total = sum(record.plates.values())
        if len(parts) >= 2 and abs(total - true_total) <= tolerance_g(true_total):
            used_truth.add(j)
            used_events.update(parts)
            matches.append(Match((record,), tuple(events[i] for i in parts)))
    one_to_one(right_delta_only=False)  # the rest: right event, wrong delta (counted in the errors)
    extra = [e for i, e in enumerate(events) if i not in used_events]
    missed = [r for j, r in enumerate(wanted) if j not in used_truth]
    return matches, extra, missed


def summarize_matches(result: tuple[list[Match], list[tuple[float, WeightEvent]], list[Any]],
                      truth: list[Any]) -> dict[str, Any]:
    """Precision counts events (merged/split parts are true events), recall counts interactions."""
    matches, extra, missed = result
    true_events = sum(len(m.events) for m in matches)
    found = sum(len(m.truths) for m in matches)
    fp, fn = len(extra), len(missed)
    precision = true_events / (true_events + fp) if true_events + fp else 1.0
    recall = found / (found + fn) if found + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors = sorted(abs(m.error_g) for m in matches)
    latencies = sorted(m.latency_s for m in matches)
    transients = [r for r in truth if r.kind in ("bump", "lean")]
    wanted = [r for r in truth if r.expect_event]

    def near(e: WeightEvent, r: Any) -> bool:
        return r.t_start - 0.5 <= e.t_end and e.t_start <= r.t_settled + 2.0

    # a false event overlapping a bump or lean, and no real interaction on its plates meanwhile
    from_transients = sum(
        1 for _, e in extra
        if any(near(e, r) for r in transients) and not any(near(e, r) and set(r.plates) & set(e.plate_deltas)
                                                           for r in wanted)
    )
    unheld = sorted(m.latency_s for m in matches if not any("held" in e.flags for _, e in m.events))
    return {
        "events": true_events + fp,
        "true_interactions": found + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "merged": sum(1 for m in matches if len(m.truths) > 1),
        "split": sum(1 for m in matches if len(m.events) > 1),
        "false_events": fp,
        "false_from_bumps_leans": from_transients,
        "missed": fn,
        "missed_examples": [
            f"{r.kind} {sorted(r.plates)} {sum(r.plates.values()):.0f} g ({r.detail})" for r in missed[:5]
        ],
        "false_examples": [f"{sorted(e.plate_deltas)} {e.delta_g:.0f} g {e.quality}" for _, e in extra[:5]],
        "abs_error_g": {"median": _q(errors, 0.5), "p95": _q(errors, 0.95), "max": _q(errors, 1.0)},
        "within_tolerance": round(sum(m.within_tolerance for m in matches) / len(matches), 4) if matches else None,
        "latency_s": {"p5": _q(latencies, 0.05), "median": _q(latencies, 0.5), "p95": _q(latencies, 0.95),
                      "max": _q(latencies, 1.0)},
        "mean_latency_s": round(statistics.fmean(latencies), 3) if latencies else None,
        "latency_not_held_s": {"median": _q(unheld, 0.5), "p95": _q(unheld, 0.95)},
        "held": len(latencies) - len(unheld),
    }


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return round(values[index], 3)
