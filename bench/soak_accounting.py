"""The soak's verdicts: every true interaction against what the hub received, and resource growth by a fit.

Pure: the truth records, the hub's event payloads and the sampled figures in, frozen records out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from edge.sim.truth import TruthRecord

BEFORE_S = 3.0  # an event may start this long before the hand (settle windows, a serial outage's last sample)
AFTER_S = 12.0  # ... and end this long after the plate settled (the settle criterion, a held heavy put)


@dataclass(frozen=True)
class Accounting:
    interactions: int  # true picks / puts / restocks that had settled before the end
    published: int  # matched one to one to a weight event at the hub
    merged: int  # covered by a weight event that also reports another interaction (the weighing merged them)
    unaccounted: tuple[int, ...]  # truth ids with no weight event at the hub: losses
    item_events: int  # item events the hub received
    items_reviewed: int  # ... flagged for review
    items_right: int  # matched interactions whose unflagged item names the true SKU and count
    items_wrong_unflagged: int  # ... naming something else without review
    items_missing: int  # matched weight events with no item event at the hub
    items_unlinked: int  # ... whose item event names no weight event (event_id null), found by plates and time
    extra_weight_events: int  # weight events matching no interaction (a lean, a bump, a fault)
    flagged_serial_outage: int  # weight events flagged serial_outage (a change during an unplug, a reset)

    @property
    def ok(self) -> bool:
        return not self.unaccounted and self.items_missing == 0 and self.items_unlinked == 0


def _sign(values: Sequence[float]) -> int:
    total = sum(values)
    return (total > 0) - (total < 0)


RealTimes = Callable[[float, float | None], list[float]]


def account(truth: Sequence[TruthRecord], events: Sequence[dict[str, Any]], real_times: RealTimes) -> Accounting:
    """`events`: the hub's event payloads (weight and item, each once; `_received_at`: when the hub got it, if
    known); `real_times(t, received_at)`: the real unix times a daemon time stamp `t` may stand for (the
    daemon's wall clock was shifted)."""
    interactions = [r for r in truth if r.expect_event]
    weights = [e for e in events if e["kind"] == "weight"]
    spans = [[(s, s + e["body"]["t_end_unix"] - e["body"]["t_start_unix"])
              for s in real_times(e["body"]["t_start_unix"], e.get("_received_at"))] for e in weights]
    items = {w["event_id"]: e for e in events if e["kind"] == "item" for w in e["body"]["weight_events"]
             if w["event_id"] is not None}
    unlinked = [e for e in events if e["kind"] == "item"
                and any(w["event_id"] is None for w in e["body"]["weight_events"])]
    pairs: list[tuple[float, int, int]] = []
    candidates: dict[int, list[int]] = {}
    for ti, record in enumerate(interactions):
        for wi, event in enumerate(weights):
            body = event["body"]
            shared = set(record.plates) & set(body["plates"])
            if not shared or _sign([record.plates[p] for p in shared]) != _sign(
                    [body["plate_deltas_g"].get(p, 0.0) for p in shared]):
                continue
            close = [abs(end - record.t_settled) for start, end in spans[wi]
                     if start <= record.t_settled + AFTER_S and end >= record.t_start - BEFORE_S]
            if close:
                candidates.setdefault(ti, []).append(wi)
                pairs.append((min(close), ti, wi))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, ti, wi in sorted(pairs):
        if ti not in matched and wi not in used:
            matched[ti] = wi
            used.add(wi)
    merged = [ti for ti in range(len(interactions)) if ti not in matched
              and (candidates.get(ti) or _in_a_net_change(interactions[ti], interactions, weights, spans))]
    unaccounted = tuple(interactions[ti].id for ti in range(len(interactions))
                        if ti not in matched and ti not in merged)
    reviewed = right = wrong = missing = orphans = 0
    for ti, wi in matched.items():
        item = items.get(weights[wi]["event_id"])
        if item is None:
            item = _same_change(weights[wi], unlinked)
            if item is None:
                missing += 1
                continue
            orphans += 1
        body = item["body"]
        if body["review"]["required"]:
            reviewed += 1
            continue
        record = interactions[ti]
        lines = [(line["sku"], line["count"]) for line in body["lines"]]
        if lines == [(record.sku, record.count)] and body["action"] == record.kind:
            right += 1
        else:
            wrong += 1
    item_events = [e for e in events if e["kind"] == "item"]
    return Accounting(
        interactions=len(interactions), published=len(matched), merged=len(merged), unaccounted=unaccounted,
        item_events=len(item_events),
        items_reviewed=sum(1 for e in item_events if e["body"]["review"]["required"]),
        items_right=right, items_wrong_unflagged=wrong, items_missing=missing, items_unlinked=orphans,
        extra_weight_events=len(weights) - len(used),
        flagged_serial_outage=sum(1 for e in weights if "serial_outage" in e["body"]["flags"]))


def _in_a_net_change(record: TruthRecord, interactions: Sequence[TruthRecord], weights: Sequence[dict[str, Any]],
                     spans: Sequence[list[tuple[float, float]]]) -> bool:
    """The record lies inside a weight event on its plate that reports the net of every interaction inside it
    (a change under way across a serial outage, or a pick the weighing took into a restock's event): the hub
    got the change, merged, even when this record alone went the other way."""
    for event, event_spans in zip(weights, spans, strict=True):
        body = event["body"]
        plates = set(record.plates) & set(body["plates"])
        if not plates:
            continue
        reported = sum(body["plate_deltas_g"].get(p, 0.0) for p in plates)
        for start, end in event_spans:
            if not (start - BEFORE_S <= record.t_start and record.t_settled <= end + AFTER_S):
                continue
            inside = [r for r in interactions if set(r.plates) & plates
                      and start - BEFORE_S <= r.t_start and r.t_settled <= end + AFTER_S]
            net = sum(r.plates.get(p, 0.0) for r in inside for p in plates)
            if abs(net - reported) <= max(10.0, 0.05 * abs(reported)):
                return True
    return False


def _same_change(weight: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The item event made from this weight event: the same plates and end time (fusion copies them)."""
    body = weight["body"]
    for item in items:
        lines = item["body"]["lines"]
        plates = {line["plate"] for line in lines} | {p for line in lines for p in line.get("plates", [])}
        if abs(item["body"]["t_end_unix"] - body["t_end_unix"]) < 0.05 and plates <= set(body["plates"]):
            return item
    return None


@dataclass(frozen=True)
class Trend:
    """A least-squares line through the second half of the samples."""

    name: str
    unit: str
    samples: int
    mean: float
    slope_per_h: float
    ci95_per_h: tuple[float, float]
    tolerance_per_h: float  # growth this small per hour counts as flat (noise)

    @property
    def flat(self) -> bool:
        low, high = self.ci95_per_h
        return low <= 0.0 <= high or max(abs(low), abs(high)) <= self.tolerance_per_h


def t_quantile_975(df: int) -> float:
    """Student's t 97.5 % quantile (within 1 % for df >= 3)."""
    if df <= 0:
        return math.inf
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}
    return table.get(df, 1.960 + 2.40 / df + 3.0 / df ** 2)


def trend(name: str, unit: str, points: Sequence[tuple[float, float]], tolerance_per_h: float) -> Trend:
    """Fit over the second half of `points` ((seconds, value)); slope and its 95 % interval per hour."""
    half = sorted(points)[len(points) // 2:]
    n = len(half)
    if n < 3:
        return Trend(name, unit, n, math.nan, math.nan, (-math.inf, math.inf), tolerance_per_h)
    xs = [p[0] for p in half]
    ys = [p[1] for p in half]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(residual / (n - 2) / sxx) if sxx else math.inf
    width = t_quantile_975(n - 2) * se
    return Trend(name, unit, n, my, slope * 3600, ((slope - width) * 3600, (slope + width) * 3600),
                 tolerance_per_h)
