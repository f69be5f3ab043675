"""When did a plate's change happen? Times comparable between plates carrying one item.

>>> trace = [(0.0, 0.0), (0.1, 0.0), (0.2, 40.0), (0.3, 80.0), (0.4, 100.0), (0.5, 100.0)]
>>> crossing_times(trace, 0.0, 100.0, smooth_span=1, default=0.0)[0]
(0.1625, 0.225, 0.2875)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from edge.weighing.robust import noise_sigma_from_differences

FRACTIONS = (0.25, 0.5, 0.75)


def crossing_times(trace: Sequence[tuple[float, float]], before: float, after: float, smooth_span: int,
                   default: float) -> tuple[tuple[float, ...], float]:
    """First times the trace, smoothed over `smooth_span` samples (~0.1 s, against shelf vibration),
    passed 25 %, 50 % and 75 % of the way from `before` to `after` and stayed past for two samples
    (interpolated between samples; `default` where never seen), plus a 1-sigma uncertainty of the
    50 % time (the trace's noise over its slope there; inf when not seen).

    They mark the lift of a pick (after the hand's press) or the arrival of a put: plates carrying
    one item share them to a few milliseconds; two hands almost never do. Three marks keep the
    comparison robust when the signal lingers near one level (a hand still holding half the item).
    """
    times = [t for t, _ in trace]
    values = [v for _, v in trace]
    if smooth_span > 1 and len(values) > smooth_span:
        running = [0.0, *itertools.accumulate(values)]
        values = [(running[i + smooth_span] - running[i]) / smooth_span for i in range(len(values) - smooth_span + 1)]
        times = [0.5 * (times[i] + times[i + smooth_span - 1]) for i in range(len(values))]
    sign = 1.0 if after >= before else -1.0
    marks: list[float] = []
    spread = math.inf
    for fraction in FRACTIONS:
        level = before + fraction * (after - before)
        mark = default
        for i in range(1, len(values) - 1):
            t0, v0, t1, v1 = times[i - 1], values[i - 1], times[i], values[i]
            if sign * (v0 - level) <= 0 < sign * (v1 - level) and sign * (values[i + 1] - level) > 0:
                mark = t0 + (t1 - t0) * (level - v0) / (v1 - v0)
                if fraction == 0.5:
                    noise = noise_sigma_from_differences(values)
                    slope = abs(v1 - v0) / max(t1 - t0, 1e-9)
                    spread = noise / slope if math.isfinite(noise) else t1 - t0
                break
        marks.append(mark)
    return tuple(marks), spread
