"""Fitting the confidence calibration and the auto-accept threshold on tuning events (docs/fusion.md).

Input rows are (raw confidence, correct, hard_flagged) from the simulator's TUNING seeds. The map is
isotonic (pool adjacent violators) in raw confidence, reduced to a few knots for FusionSettings; the
threshold is the lowest calibrated confidence whose accepted set keeps the 95% Wilson upper bound on its
error rate at or below the bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# knots of the stored map, in -log10(1 - raw): 0.5, 0.9, 0.99, ... 0.999999
KNOT_DEPTHS = (0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)


@dataclass(frozen=True, slots=True)
class Threshold:
    threshold: float       # calibrated confidence needed (1.0 = no auto-accept meets the bound)
    coverage: float        # share of all events accepted at it
    accepted: int
    errors: int
    error_upper95: float


def wilson_upper(errors: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 1.0
    p = errors / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + margin) / denominator


def fit_calibration(rows: Sequence[tuple[float, bool]]) -> tuple[tuple[float, float], ...]:
    """Isotonic fit of correctness against raw confidence, sampled at KNOT_DEPTHS (monotone, in [0, 1])."""
    ordered = sorted(rows, key=lambda r: r[0])
    blocks: list[list[float]] = []  # [sum correct, count, max raw]
    for raw, correct in ordered:
        blocks.append([float(correct), 1.0, raw])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][2] = last[2]
    points: list[tuple[float, float]] = []
    for depth in KNOT_DEPTHS:
        raw = 1 - 10 ** -depth
        value = next((b[0] / b[1] for b in blocks if b[2] >= raw), blocks[-1][0] / blocks[-1][1] if blocks else raw)
        if points and value < points[-1][1]:
            value = points[-1][1]
        points.append((round(raw, 7), round(value, 6)))
    return tuple(points)


def choose_threshold(rows: Sequence[tuple[float, bool, bool]], bound: float = 0.005) -> Threshold:
    """rows: (calibrated confidence, correct, hard_flagged). Accepted = not hard-flagged and confidence >= t."""
    candidates = sorted((r for r in rows if not r[2]), key=lambda r: -r[0])
    best = Threshold(1.0, 0.0, 0, 0, 1.0)
    errors = 0
    for i, (confidence, correct, _) in enumerate(candidates):
        errors += not correct
        if i + 1 < len(candidates) and candidates[i + 1][0] == confidence:
            continue  # a threshold accepts all events of one confidence or none
        upper = wilson_upper(errors, i + 1)
        if upper <= bound:
            best = Threshold(confidence, (i + 1) / len(rows), i + 1, errors, upper)
    return best
