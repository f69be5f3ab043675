"""Score weight events against simulator ground truth (used by scripts/bench-weighing and tests).

An event matches a true interaction (pick/put/restock) when it has the same plates, the same
sign and lies within `slack_s` (2 s) of the interaction's [t_start, t_settled]; matching is one
to one, closest settle time first. Unmatched events are false events, and are attributed to a
bump or lean when they fall inside one. Truth records only need the fields read here (duck typed,
so this module does not depend on the simulator).
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
    truth: TruthLike
    event: WeightEvent
    t_emit: float

    @property
    def error_g(self) -> float:
        return self.event.delta_g - sum(self.truth.plates.values())

    @property
    def within_tolerance(self) -> bool:
        return abs(self.error_g) <= tolerance_g(sum(self.truth.plates.values()))

    @property
    def latency_s(self) -> float:
        return self.t_emit - self.truth.t_settled


def tolerance_g(true_delta: float) -> float:
    """What 'right' means for a delta: +-max(2 g, 2 % of it) (well under half of any item)."""
    return max(2.0, 0.02 * abs(true_delta))


def match_events(events: list[tuple[float, WeightEvent]], truth: list[Any], slack_s: float = 2.0
                 ) -> tuple[list[Match], list[tuple[float, WeightEvent]], list[Any]]:
    """(matches, unmatched events, unmatched interactions)."""
    wanted = [r for r in truth if r.expect_event]
    pairs: list[tuple[float, int, int]] = []
    for i, (_, event) in enumerate(events):
        for j, record in enumerate(wanted):
            total = sum(record.plates.values())
            if set(event.plate_deltas) != set(record.plates) or (event.delta_g > 0) != (total > 0):
                continue
            if event.t_end < record.t_start - slack_s or event.t_start > record.t_settled + slack_s:
                continue
            pairs.append((abs(event.t_end - record.t_settled), i, j))
    used_events: set[int] = set()
    used_truth: set[int] = set()
    matches = []
    for _, i, j in sorted(pairs):
        if i in used_events or j in used_truth:
            continue
        used_events.add(i)
        used_truth.add(j)
        matches.append(Match(wanted[j], events[i][1], events[i][0]))
    extra = [e for i, e in enumerate(events) if i not in used_events]
    missed = [r for j, r in enumerate(wanted) if j not in used_truth]
    return matches, extra, missed


def summarize_matches(result: tuple[list[Match], list[tuple[float, WeightEvent]], list[Any]],
                      truth: list[Any]) -> dict[str, Any]:
    matches, extra, missed = result
    tp, fp, fn = len(matches), len(extra), len(missed)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors = sorted(abs(m.error_g) for m in matches)
    latencies = sorted(m.latency_s for m in matches)
    transients = [r for r in truth if r.kind in ("bump", "lean")]
    from_transients = sum(
        1 for _, e in extra if any(r.t_start - 0.5 <= e.t_end and e.t_start <= r.t_settled + 2.0 for r in transients)
    )
    return {
        "events": tp + fp,
        "true_interactions": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_events": fp,
        "false_from_bumps_leans": from_transients,
        "missed": fn,
        "missed_examples": [
            f"{r.kind} {sorted(r.plates)} {sum(r.plates.values()):.0f} g ({r.detail})" for r in missed[:5]
        ],
        "false_examples": [f"{sorted(e.plate_deltas)} {e.delta_g:.0f} g {e.quality}" for _, e in extra[:5]],
        "abs_error_g": {"median": _q(errors, 0.5), "p95": _q(errors, 0.95), "max": _q(errors, 1.0)},
        "within_tolerance": round(sum(m.within_tolerance for m in matches) / tp, 4) if tp else None,
        "latency_s": {"p5": _q(latencies, 0.05), "median": _q(latencies, 0.5), "p95": _q(latencies, 0.95),
                      "max": _q(latencies, 1.0)},
        "mean_latency_s": round(statistics.fmean(latencies), 3) if latencies else None,
    }


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return round(values[index], 3)
