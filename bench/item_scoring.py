"""Score item events against simulator ground truth (bench/fusion.py and the replay tests).

Matching: an item event and a true interaction (pick/put/restock) are candidates when they share
a plate and their time spans come within `slack_s` (2 s) of each other; candidates whose weight
moved the same way (the event's plate changes against the true deltas) are taken one to one,
closest end times first. Then a left-over truth joins a candidate event, and a left-over
event joins a candidate truth, only when that brings the group's units closer (two quick picks
reported as one "2 x", a restock reported in steps, a pick the weighing merged into a restock's
event, as its contract allows). A group's units are compared per SKU as net signed counts (put
and restock +, pick -): one event can only report the net change of what it merged. `unknown`
claims no units.

Event-level correctness (precision on unflagged events, risk-coverage, reliability): an event is
right when its group's units equal the truth's exactly; an event matching no truth is right only
when it claims no units. Item events and truth records are duck typed (no fusion import).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SLACK_S = 2.0
# Reliability bins: most confidences lie near 1, so the top is split finely (upper edges).
BIN_EDGES = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)

Units = dict[str, int]  # sku -> units that arrived (put, restock: +) or left (pick: -)


def event_plates(event: Any) -> set[str]:
    plates = {change.plate for change in getattr(event, "changes", ())}
    for line in event.lines:
        plates.add(line.plate)
        plates.update(line.plates)
    return plates


SIGN = {"pick": -1, "put": 1, "restock": 1}  # restock counts as put; unknown claims nothing


def _add(total: Units, sku: str, signed: int) -> None:
    total[sku] = total.get(sku, 0) + signed
    if total[sku] == 0:
        del total[sku]


def event_units(event: Any) -> Units:
    units: Units = {}
    for line in event.lines if event.action in SIGN else ():
        _add(units, line.sku, SIGN[event.action] * line.count)
    return units


def truth_units(record: Any) -> Units:
    units: Units = {}
    if record.sku and record.kind in SIGN:
        _add(units, record.sku, SIGN[record.kind] * record.count)
    return units


def _merge(parts: Iterable[Units]) -> Units:
    total: Units = {}
    for part in parts:
        for sku, signed in part.items():
            _add(total, sku, signed)
    return total


def unit_counts(predicted: Units, true: Units) -> tuple[int, int, int]:
    """(tp, fp, fn) in units: per SKU, the same direction counts min(|p|, |t|) as found."""
    tp = fp = fn = 0
    for sku in predicted.keys() | true.keys():
        p, t = predicted.get(sku, 0), true.get(sku, 0)
        hit = min(abs(p), abs(t)) if p * t > 0 else 0
        tp += hit
        fp += abs(p) - hit
        fn += abs(t) - hit
    return tp, fp, fn


def _error(predicted: Units, true: Units) -> int:
    _, fp, fn = unit_counts(predicted, true)
    return fp + fn


@dataclass
class Group:
    events: list[Any] = field(default_factory=list)
    truths: list[Any] = field(default_factory=list)

    def predicted(self) -> Units:
        return _merge(event_units(e) for e in self.events)

    def true(self) -> Units:
        return _merge(truth_units(t) for t in self.truths)

    @property
    def correct(self) -> bool:
        return self.predicted() == self.true()


def _sign(values: Iterable[float]) -> int:
    total = sum(values)
    return (total > 0) - (total < 0)


def _same_way(event: Any, record: Any) -> bool:
    changes = getattr(event, "changes", ())
    return not changes or _sign(c.delta_g for c in changes) == _sign(record.plates.values())


def _close(event: Any, record: Any, slack_s: float) -> bool:
    """Shares a plate and the times come within `slack_s`."""
    return (
        bool(event_plates(event) & set(record.plates))
        and event.t_start <= record.t_settled + slack_s
        and event.t_end >= record.t_start - slack_s
    )


def match_items(events: Sequence[Any], truth: Iterable[Any], slack_s: float = SLACK_S) -> list[Group]:
    """Groups of matched events and truths, plus unmatched events and truths alone."""
    records = [r for r in truth if r.expect_event]
    records.sort(key=lambda r: r.t_start)
    starts = [r.t_start for r in records]
    candidates: list[tuple[float, int, int]] = []
    for i, event in enumerate(events):
        low = _bisect(starts, event.t_start - 60.0)  # no interaction handles a plate for a minute
        for j in range(low, len(records)):
            record = records[j]
            if record.t_start > event.t_end + slack_s:
                break
            if _close(event, record, slack_s):
                candidates.append((abs(event.t_end - record.t_settled), i, j))
    candidates.sort()
    group_of_event: dict[int, Group] = {}
    group_of_truth: dict[int, Group] = {}
    for _, i, j in candidates:  # one to one: the weight moved the way the truth says
        if i not in group_of_event and j not in group_of_truth and _same_way(events[i], records[j]):
            group = Group([events[i]], [records[j]])
            group_of_event[i] = group_of_truth[j] = group
    for _, i, j in candidates:  # merges that bring the group's net units closer
        if j not in group_of_truth and i in group_of_event:
            group = group_of_event[i]
            joined = _merge([group.true(), truth_units(records[j])])
            if _error(group.predicted(), joined) < _error(group.predicted(), group.true()):
                group.truths.append(records[j])
                group_of_truth[j] = group
        elif i not in group_of_event and j in group_of_truth:
            group = group_of_truth[j]
            joined = _merge([group.predicted(), event_units(events[i])])
            if _error(joined, group.true()) < _error(group.predicted(), group.true()):
                group.events.append(events[i])
                group_of_event[i] = group
    groups = list({id(g): g for g in group_of_event.values()}.values())
    groups += [Group([e], []) for i, e in enumerate(events) if i not in group_of_event]
    groups += [Group([], [r]) for j, r in enumerate(records) if j not in group_of_truth]
    return groups


def _bisect(values: list[float], x: float) -> int:
    low, high = 0, len(values)
    while low < high:
        mid = (low + high) // 2
        if values[mid] < x:
            low = mid + 1
        else:
            high = mid
    return low


@dataclass(frozen=True, slots=True)
class Judged:
    """One item event with the verdict of its group and the truth it matched."""

    event: Any
    correct: bool
    truths: tuple[Any, ...]


def judge(groups: Sequence[Group]) -> list[Judged]:
    return [Judged(e, g.correct, tuple(g.truths)) for g in groups for e in g.events]


def unit_f1(groups: Sequence[Group]) -> dict[str, float | int]:
    tp = fp = fn = 0
    for group in groups:
        found, extra, missed = unit_counts(group.predicted(), group.true())
        tp, fp, fn = tp + found, fp + extra, fn + missed
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def wilson_upper(errors: int, n: int, z: float = 1.96) -> float:
    """95 % upper bound of an error rate seen as errors / n (Wilson score interval)."""
    if n == 0:
        return 1.0
    p = errors / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + margin) / (1 + z * z / n))


def review_summary(judged: Sequence[Judged]) -> dict[str, float | int]:
    """Review rate, and precision on the events not flagged (with the Wilson bound on their error)."""
    flagged = [j for j in judged if j.event.review_required]
    unflagged = [j for j in judged if not j.event.review_required]
    wrong = sum(not j.correct for j in unflagged)
    return {
        "events": len(judged),
        "flagged": len(flagged),
        "review_rate": len(flagged) / len(judged) if judged else 0.0,
        "unflagged": len(unflagged),
        "unflagged_wrong": wrong,
        "precision_unflagged": 1 - wrong / len(unflagged) if unflagged else 1.0,
        "error_upper95_unflagged": wilson_upper(wrong, len(unflagged)),
        "correct": sum(j.correct for j in judged),
        "accuracy": sum(j.correct for j in judged) / len(judged) if judged else 1.0,
    }


COVERAGE_POINTS = (0.5, 0.8, 0.9, 0.95, 0.98, 1.0)


def risk_coverage(judged: Sequence[Judged], points: Sequence[float] = COVERAGE_POINTS) -> list[dict[str, float]]:
    """Accept the most confident share `coverage` of events: their error rate (risk) and the
    confidence of the last one accepted (the threshold that gives this coverage)."""
    ranked = sorted(judged, key=lambda j: -j.event.confidence)
    rows = []
    for coverage in points:
        k = max(1, round(coverage * len(ranked))) if ranked else 0
        errors = sum(not j.correct for j in ranked[:k])
        rows.append({
            "coverage": coverage, "accepted": k, "risk": errors / k if k else 0.0,
            "risk_upper95": wilson_upper(errors, k), "threshold": ranked[k - 1].event.confidence if k else 1.0,
        })  # fmt: skip
    return rows


def reliability(judged: Sequence[Judged], edges: Sequence[float] = BIN_EDGES) -> tuple[list[dict[str, float]], float]:
    """Confidence bins (upper edges; the first bin starts at 0) against observed accuracy, and the
    expected calibration error: sum over bins of share x |accuracy - mean confidence|."""
    rows = []
    ece = 0.0
    low = 0.0
    for high in edges:
        members = [j for j in judged if low <= j.event.confidence < high or (high == 1.0 and j.event.confidence == 1.0)]
        if members:
            accuracy = sum(j.correct for j in members) / len(members)
            confidence = sum(j.event.confidence for j in members) / len(members)
            ece += len(members) / len(judged) * abs(accuracy - confidence)
            rows.append(
                {"low": low, "high": high, "events": len(members), "confidence": confidence, "accuracy": accuracy}
            )
        low = high
    return rows, ece


def by_tag(judged: Sequence[Judged], tags: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """Review rate and precision on unflagged events among events whose truth carries each tag."""
    return {tag: review_summary([j for j in judged if any(tag in t.tags for t in j.truths)]) for tag in tags}


def tag_f1(groups: Sequence[Group], tag: str) -> dict[str, float | int]:
    return unit_f1([g for g in groups if any(tag in t.tags for t in g.truths)])


def same_label_alternative(event: Any, labels: Mapping[str, frozenset[str]], floor: float = 0.01) -> bool:
    """Whether a plausible alternative (p >= floor) names, for the same counts, a SKU the camera
    cannot tell from the chosen one (the same label set)."""
    chosen = {line.sku for line in event.lines}
    for alternative in getattr(event, "alternatives", ()):
        if alternative.probability < floor:
            continue
        for line in alternative.lines:
            if line.sku not in chosen and any(labels.get(line.sku) == labels.get(sku) for sku in chosen):
                return True
    return False
