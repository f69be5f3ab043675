"""Per-channel offset and scale, and the least-squares fit that corrects a plate's scale.

A channel's grams are `(counts - offset) / counts_per_gram`; a plate's grams are the sum of
its channels' grams. Calibrating a plate fits `true_g = alpha * reading_g + beta` over the
known-weight points (reading_g = what the plate read with the current calibration), then
folds alpha and beta back into its channels: with one cell that is exactly that cell's fit,
with several cells it is one common scale correction for the plate.

A fit is refused when it is not what a load cell can give (`check_fit`): a channel scale outside
COUNTS_PER_GRAM_RANGE (GRAMS_SCALE_RANGE for a source that sends grams), a calibrated plate's scale
moving by more than RECALIBRATION_BAND, or a zero correction or known weight beyond the plate's max_g.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from edge.errors import CalibrationError

# A 24-bit bridge ADC (HX711 class, gain 32..128) on cells of 1-2 mV/V gives ~2 million counts at rated
# load: from ~1 count/g (a 500 kg cell at gain 32) to ~100,000 counts/g (a 20 g micro cell).
COUNTS_PER_GRAM_RANGE = (0.5, 200_000.0)
# A plain-protocol sketch that already sends grams: a correction of its own scale within 5x.
GRAMS_SCALE_RANGE = (0.2, 5.0)
# Recalibrating a calibrated plate moves its scale by a few per cent; by 2x means wrong points.
RECALIBRATION_BAND = (0.5, 2.0)


@dataclass(frozen=True, slots=True)
class Board:
    """The MCU a calibration was made with (its info frame's uid and firmware)."""

    uid: str
    firmware: str

    def to_json(self) -> dict[str, str]:
        return {"uid": self.uid, "firmware": self.firmware}


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
    board: Board | None = None  # the MCU it was made with, when known

    @classmethod
    def defaults(cls, channels: int, counts_per_gram: float) -> Calibration:
        return cls(tuple(ChannelCalibration(0.0, counts_per_gram) for _ in range(channels)), {}, "defaults")

    def reset_plate(self, plate: str, channels: list[int], counts_per_gram: float) -> Calibration:
        """The plate's channels back to the defaults (offset 0, `counts_per_gram`), its fit forgotten."""
        fits = {name: fit for name, fit in self.plate_fits.items() if name != plate}
        reset = self.with_channels({ch: ChannelCalibration(0.0, counts_per_gram) for ch in channels})
        return replace(reset, plate_fits=fits)

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


def check_fit(fit: PlateFit, new: list[ChannelCalibration], points: list[tuple[float, float]], *,
              calibrated: bool, grams_source: bool, max_g: float) -> None:
    """Refuse a fit no load cell gives, with what to do instead (CalibrationError)."""
    plate = fit.plate
    redo = ("tare the empty plate, put a known weight on it, and calibrate with that weight in grams "
            "(`shelf-node calibration show` lists the current values)")
    heaviest = max(known for _, known in points)
    if heaviest > max_g:
        raise CalibrationError(f"plate {plate!r}: known weight {heaviest:g} g is beyond the plate's range "
                               f"(max_g = {max_g:g} g); give the weight in grams, or raise [[plates]] max_g")
    if abs(fit.zero_correction_g) > max_g:
        raise CalibrationError(f"plate {plate!r}: the fit moves the plate's zero by {fit.zero_correction_g:.6g} g, "
                               f"beyond its range (max_g = {max_g:g} g); the points are wrong: {redo}")
    low, high = RECALIBRATION_BAND
    if calibrated and not low <= fit.scale_correction <= high:
        raise CalibrationError(
            f"plate {plate!r} is calibrated and this fit would change its scale x{fit.scale_correction:.4g} (a "
            f"recalibration stays within x{low:g}..x{high:g}); check the known weights and that they are on this "
            f"plate, or start over with `shelf-node calibration reset {plate}`"
        )
    low, high = GRAMS_SCALE_RANGE if grams_source else COUNTS_PER_GRAM_RANGE
    unit = "grams per gram (the sketch sends grams)" if grams_source else "counts/g"
    for channel in new:
        scale = abs(channel.counts_per_gram)
        if not low <= scale <= high:
            raise CalibrationError(
                f"plate {plate!r}: the fit gives {channel.counts_per_gram:.4g} {unit}, outside what a load cell "
                f"gives ({low:g}..{high:g}; scale correction x{fit.scale_correction:.4g}); the points are wrong: {redo}"
            )
