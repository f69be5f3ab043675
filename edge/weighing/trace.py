"""A weight event's trace excerpt: each plate's grams around its change, downsampled for a reviewer.

The plate detector keeps, for every change, its median-filtered grams from one settle window before the
change opened to the window that settled it (`Segment.trace`, edge/weighing/plate.py): before, during and
after. An event carries at most `MAX_POINTS` of them per plate (`WeightEvent.traces`), chosen by the
largest-triangle-three-buckets rule: the first and last sample are kept, and in each bucket between them
the sample that makes the largest triangle with the previous pick and the next bucket's mean. A step, a
press and its release, or a bump keep their shape, which an evenly spaced subsample or bucket means
would blur. Made once per event from the trace the detector already holds: nothing is added per sample.

    >>> points = [(i / 80, 0.0 if i < 100 else -350.0) for i in range(400)]
    >>> picked = excerpt(points)
    >>> len(picked), picked[0], picked[-1]
    (64, (0.0, 0.0), (4.9875, -350.0))
    >>> min(g for _, g in picked), max(g for _, g in picked)
    (-350.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.model import PlateTrace

MAX_POINTS = 64  # per plate and event: ~1 KB of JSON in an item event

Point = tuple[float, float]


def excerpt(points: Sequence[Point], max_points: int = MAX_POINTS) -> tuple[Point, ...]:
    """At most `max_points` of `points` ((t, grams) in time order), keeping the first and the last."""
    n = len(points)
    if n <= max_points:
        return tuple(points)
    if max_points < 3:
        return (points[0], points[-1])[:max_points]
    buckets = max_points - 2
    width = (n - 2) / buckets
    out = [points[0]]
    previous = points[0]
    for b in range(buckets):
        start, end = 1 + int(b * width), 1 + int((b + 1) * width)
        following = points[end:min(1 + int((b + 2) * width), n - 1)] or points[n - 1:]
        next_t = sum(p[0] for p in following) / len(following)
        next_g = sum(p[1] for p in following) / len(following)
        pt, pg = previous
        best, best_area = points[start], -1.0
        for point in points[start:end]:
            area = abs((pt - next_t) * (point[1] - pg) - (pt - point[0]) * (next_g - pg))
            if area > best_area:
                best, best_area = point, area
        out.append(best)
        previous = best
    out.append(points[-1])
    return tuple(out)


def plate_trace(plate: str, points: Sequence[Point], max_points: int = MAX_POINTS) -> PlateTrace | None:
    """The excerpt of one plate's change, or None when the detector kept no trace of it (fewer than 2
    samples: a slow drift closed by the quiet window check)."""
    if len(points) < 2:
        return None
    return PlateTrace(plate, excerpt(points, max_points))


def merged(first: Sequence[PlateTrace], second: Sequence[PlateTrace],
           max_points: int = MAX_POINTS) -> tuple[PlateTrace, ...]:
    """Two events netted into one (a heavy transient and what came back): each plate's points of both, in
    time order, excerpted again."""
    by_plate: dict[str, list[Point]] = {}
    for trace in (*first, *second):
        by_plate.setdefault(trace.plate, []).extend(trace.points)
    return tuple(PlateTrace(plate, excerpt(sorted(points), max_points)) for plate, points in by_plate.items())


def shifted(traces: Sequence[PlateTrace], seconds: float) -> tuple[PlateTrace, ...]:
    """The traces moved by `seconds` (events from the weighing timeline onto the wall clock)."""
    return tuple(PlateTrace(t.plate, tuple((at + seconds, g) for at, g in t.points)) for t in traces)
