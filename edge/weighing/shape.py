"""Do two plates' changes have the same time profile? (One rigid item lying across both.)

An item across two plates moves them as one body: the hand's press on it, its lift (or its
arrival and release) load both plates in the same proportion at every instant, so plate B's
excursion is k times plate A's (k = delta_B / delta_A) all along the change. Two hands on
neighbouring plates press, hold and lift independently: their excursions are not proportional,
even when the lifts fall in the same 30 ms.

>>> ramp = [(i / 80, 0.0 if i < 40 else min(i - 40, 20) * 1.0) for i in range(120)]
>>> half = [(t, 0.5 * v) for t, v in ramp]
>>> round(proportionality_error(ramp, half, 0.0, 20.0, 0.0, 10.0, smooth_span=8), 3)
0.0
>>> late = [(t, 0.5 * (0.0 if i < 56 else min(i - 56, 20) * 1.0)) for i, (t, _) in enumerate(ramp)]
>>> proportionality_error(ramp, late, 0.0, 20.0, 0.0, 10.0, smooth_span=8) > 0.2
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

Trace = Sequence[tuple[float, float]]


def proportionality_error(a: Trace, b: Trace, a_before: float, a_after: float, b_before: float, b_after: float,
                          smooth_span: int) -> float:
    """RMS of how far the two normalized excursions ((v - before) / (after - before)) differ,
    smoothed over `smooth_span` samples (~0.1 s, against shelf vibration), over the samples both
    traces share; inf when they share too few. 0 = the same profile; a step 0.2 s late on a
    1.5 s trace gives ~0.28."""
    da, db = a_after - a_before, b_after - b_before
    if da == 0.0 or db == 0.0:
        return math.inf
    b_at = dict(b)
    diffs = [(v - a_before) / da - (b_at[t] - b_before) / db for t, v in a if t in b_at]
    if len(diffs) < max(2 * smooth_span, 8):
        return math.inf
    if smooth_span > 1:
        running = [0.0, *itertools.accumulate(diffs)]
        diffs = [(running[i + smooth_span] - running[i]) / smooth_span for i in range(len(diffs) - smooth_span + 1)]
    return math.sqrt(sum(d * d for d in diffs) / len(diffs))
