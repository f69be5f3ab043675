"""The fleet against the shelves' truth: each shopper interaction a node was up for, matched to an item
event the hub received. Seq continuity says nothing stored was lost; this says nothing seen went unstored.

A node is "up" from `WARM_S` after it came online until `MARGIN_S` before it was killed or stopped: an
interaction outside that (the daemon starting, dead, or stopping) may rightly have no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.sim.truth import read_truth

WARM_S = 10.0  # the weigher measures the sample rate and the plates' noise first
MARGIN_S = 3.0
MATCH_S = 2.0  # an item event's t_start within this of the interaction's start


@dataclass(frozen=True, slots=True)
class TruthCheck:
    interactions: int  # shopper interactions inside a node's up windows
    matched: int  # ... with an item event at the hub
    extra_items: int  # item events in the windows that match no interaction


def check(truth_path: Path, windows: list[tuple[float, float]], item_starts: list[float]) -> TruthCheck:
    """One node: its truth file (unix times), its up windows (unix s), the t_start of each item event."""
    inside = [(a, b) for a, b in windows if b > a]

    def up(start: float, end: float) -> bool:
        return any(a <= start and end <= b for a, b in inside)

    truth = sorted((r for r in read_truth(truth_path) if r.expect_event), key=lambda r: r.t_start) \
        if truth_path.exists() else []
    free = sorted(item_starts)
    counted = matched = 0
    for record in truth:  # every interaction takes its item event, so one at a window's edge is not "extra"
        hit = next((t for t in free if abs(t - record.t_start) <= MATCH_S), None)
        if hit is not None:
            free.remove(hit)
        if up(record.t_start, record.t_settled):
            counted += 1
            matched += hit is not None
    return TruthCheck(counted, matched, sum(1 for t in free if up(t, t)))


def windows(online: list[float], ends: list[float]) -> list[tuple[float, float]]:
    """Up windows from each start's `online` time (unix) to the end that follows it (a kill or the stop)."""
    spans = []
    for start in online:
        end = min((e for e in ends if e > start), default=start)
        spans.append((start + WARM_S, end - MARGIN_S))
    return spans
