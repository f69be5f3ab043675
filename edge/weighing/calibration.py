"""Per-channel offset and scale, and the least-squares fit that corrects a plate's scale.

A channel's grams are `(counts - offset) / counts_per_gram`; a plate's grams are the sum of
its channels' grams. Calibrating a plate fits `true_g = alpha * reading_g + beta` over the
known-weight points (reading_g = what the plate read with the current calibration), then
folds alpha and beta back into its channels: with one cell that is exactly that cell's fit,
with several cells it is one common scale correction for the plate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from edge.errors import CalibrationError


@dataclass(frozen=True, slots=True)
class ChannelCalibration:
    offset: float = 0.0  # raw counts at zero load
    counts_per_gram: float = 420.0

    def grams(self, counts: float) -> float:
        return (counts - self.offset) / self.counts_per_gram


@dataclass(frozen=True, slots=True)
class PlateFit:
    """Outcome of a calibration: the correction applied and how well the points fit it."""

    plate: str
    scale_correction: float  # alpha: new grams per old gram
    zero_correction_g: float  # beta, grams
    residual_g: float  # RMS of the points around the fit
    points: int


@dataclass(frozen=True, slots=True)
class Calibration:
    """Every channel's calibration plus, per plate, when and how well it was fitted."""

    channels: tuple[ChannelCalibration, ...]
    plate_fits: dict[str, dict[str, Any]]
    source: str  # "defaults", or the file it came from

    @classmethod
    def defaults(cls, channels: int, counts_per_gram: float) -> Calibration:
        return cls(tuple(ChannelCalibration(0.0, counts_per_gram) for _ in range(channels)), {}, "defaults")

    def with_channels(self, updates: dict[int, ChannelCalibration], source: str | None = None) -> Calibration:
        channels = list(self.channels)
        for index, value in updates.items():
            channels[index] = value
        return replace(self, channels=tuple(channels), source=source or self.source)


def fit_plate(plate: str, points: list[tuple[float, float]]) -> PlateFit:
    """Least-squares `true = alpha * reading + beta` over (reading_g, known_g) points.

    One point fits alpha alone (the plate must have been tared: beta = 0); two or more distinct
    points fit both. Raises CalibrationError on nonsense input.
    """
    if not points:
        raise CalibrationError(f"plate {plate!r}: no calibration points; put a known weight on it first")
    for reading, known in points:
        if not (math.isfinite(reading) and math.isfinite(known)):
            raise CalibrationError(f"plate {plate!r}: point ({reading}, {known}) is not a finite number")
        if known < 0:
            raise CalibrationError(f"plate {plate!r}: known weight {known} g is negative; weights are >= 0 g")
    readings = [p[0] for p in points]
    knowns = [p[1] for p in points]
    if len(points) == 1:
        reading, known = points[0]
        if known <= 0 or abs(reading) < 1e-9:
            raise CalibrationError(
                f"plate {plate!r}: one point needs a known weight > 0 g and a non-zero reading "
                f"(got {known} g read as {reading} g); tare the empty plate, then put the weight on"
            )
        alpha, beta = known / reading, 0.0
    else:
        if max(knowns) - min(knowns) < 1e-6 or max(readings) - min(readings) < 1e-9:
            raise CalibrationError(
                f"plate {plate!r}: the {len(points)} points are not distinct (same known weight or same "
                f"reading); use at least two different weights, e.g. empty and a reference weight"
            )
        n = len(points)
        mean_r = sum(readings) / n
        mean_k = sum(knowns) / n
        sxx = sum((r - mean_r) ** 2 for r in readings)
        sxy = sum((r - mean_r) * (k - mean_k) for r, k in zip(readings, knowns, strict=True))
        alpha = sxy / sxx
        beta = mean_k - alpha * mean_r
    if not math.isfinite(alpha) or alpha <= 0:
        raise CalibrationError(
            f"plate {plate!r}: the fit gives a scale correction of {alpha:.4g} (must be > 0); "
            f"check the known weights were entered for the right plate and in grams"
        )
    residual = math.sqrt(sum((alpha * r + beta - k) ** 2 for r, k in points) / len(points))
    return PlateFit(plate, alpha, beta, residual, len(points))


def apply_fit(channels: list[ChannelCalibration], fit: PlateFit) -> list[ChannelCalibration]:
    """New calibration of a plate's channels so that they read `alpha * old + beta` in sum.

    Each channel's scale is divided by alpha; beta is shared equally between the channels.
    """
    share = fit.zero_correction_g / len(channels)
    updated = []
    for channel in channels:
        scale = channel.counts_per_gram / fit.scale_correction
        if not math.isfinite(scale) or scale == 0:
            raise CalibrationError(f"plate {fit.plate!r}: resulting scale {scale} counts/g is unusable")
        updated.append(ChannelCalibration(offset=channel.offset - share * scale, counts_per_gram=scale))
    return updated
