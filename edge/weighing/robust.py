"""Small robust statistics on short windows (pure Python: faster than numpy at these sizes).

>>> median3(1.0, 250.0, 2.0)
2.0
>>> round(robust_mean([10.0, 10.2, 9.8, 500.0], sigma=0.5), 3)
10.0
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

MAD_TO_SIGMA = 1.4826  # sigma of a normal distribution per unit of median absolute deviation


def median3(a: float, b: float, c: float) -> float:
    """Median of three: removes any single-sample glitch from a stream."""
    if a > b:
        a, b = b, a
    if b > c:
        b = c
    return a if a > b else b


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])


def noise_sigma_from_differences(values: Sequence[float]) -> float:
    """White-noise sigma from first differences: blind to the level and to slow trends.

    Differences further than 4 MAD-sigmas from their median (a step, a glitch) are dropped and
    the rest averaged as absolute deviations, which is far less noisy than the MAD alone.
    """
    diffs = [b - a for a, b in itertools.pairwise(values)]
    if len(diffs) < 3:
        return math.nan
    centre = median(diffs)
    deviations = [abs(d - centre) for d in diffs]
    limit = 4.0 * MAD_TO_SIGMA * median(deviations)
    kept = [d for d in deviations if d <= limit] or deviations
    # E|x| = sigma * sqrt(2/pi) for a normal x; differences have sqrt(2) times the samples' sigma
    return (sum(kept) / len(kept)) * math.sqrt(math.pi / 2.0) / math.sqrt(2.0)


def robust_mean(values: Sequence[float], sigma: float, cut_sigmas: float = 4.0) -> float:
    """Mean of the values within `cut_sigmas` sigma of their median (drops glitches)."""
    centre = median(values)
    limit = cut_sigmas * sigma
    kept = [v for v in values if abs(v - centre) <= limit]
    return sum(kept) / len(kept) if kept else centre


def half_means(values: Sequence[float]) -> tuple[float, float]:
    """Means of the first and the second half of a window (a cheap trend test)."""
    half = len(values) // 2
    first = list(values)[:half]
    second = list(values)[len(values) - half :]
    return sum(first) / len(first), sum(second) / len(second)
