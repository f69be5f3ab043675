"""Deterministic load waveforms on a set of channels: ramps, damped steps, rings.

A shape adds `amps[k] * profile(t)` grams to channel `channels[k]`. After `end()` its
contribution is constant (`final()`), so the renderer folds it into a baseline and forgets it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

PRECISION_G = 1e-3  # a transient is over when its deviation is below this many grams
SETTLED_G = 0.5  # per-shape deviation counted as "settled" (several shapes can overlap: truth says ~1 g)


@dataclass(frozen=True, slots=True)
class Shape:
    kind: Literal["ramp", "step", "ring"]
    t0: float  # seconds from scenario start
    channels: tuple[int, ...]
    amps: tuple[float, ...]  # grams per channel (for a ring: peak amplitude)
    time_s: float  # ramp: rise time; step/ring: decay constant tau
    freq_hz: float = 0.0

    @property
    def total_g(self) -> float:
        return float(sum(abs(a) for a in self.amps))

    def end(self) -> float:
        if self.kind == "ramp":
            return self.t0 + self.time_s
        return self.t0 + self.time_s * math.log(max(self.total_g / PRECISION_G, 1.0))

    def settled_at(self, amplitude_g: float | None = None) -> float:
        """When the deviation from the final value is below SETTLED_G for good."""
        if self.kind == "ramp":
            return self.t0 + self.time_s
        amplitude = self.total_g if amplitude_g is None else amplitude_g
        return self.t0 + self.time_s * math.log(max(amplitude / SETTLED_G, 1.0))

    def final(self) -> np.ndarray:
        return np.zeros(len(self.amps)) if self.kind == "ring" else np.asarray(self.amps, dtype=float)

    def profile(self, t: np.ndarray) -> np.ndarray:
        """Dimensionless shape at times t (0 before t0)."""
        x = t - self.t0
        after = x >= 0
        xs = np.where(after, x, 0.0)
        if self.kind == "ramp":
            p = np.clip(xs / self.time_s, 0.0, 1.0)
            return np.where(after, p * p * (3.0 - 2.0 * p), 0.0)
        decay = np.exp(-xs / self.time_s)
        phase = 2.0 * math.pi * self.freq_hz * xs
        if self.kind == "step":
            return np.where(after, 1.0 - decay * np.cos(phase), 0.0)
        return np.where(after, decay * np.sin(phase), 0.0)


def ramp(t0: float, rise_s: float, channels: tuple[int, ...], amps: tuple[float, ...]) -> Shape:
    return Shape("ramp", t0, channels, amps, rise_s)


def damped_step(
    t0: float, settle_s: float, freq_hz: float, channels: tuple[int, ...], amps: tuple[float, ...]
) -> Shape:
    """A load change that rings and is within SETTLED_G of its new level `settle_s` after t0."""
    amplitude = sum(abs(a) for a in amps)
    tau = settle_s / math.log(max(amplitude / SETTLED_G, math.e))
    return Shape("step", t0, channels, amps, tau, freq_hz)


def ring(t0: float, settle_s: float, freq_hz: float, channels: tuple[int, ...], amps: tuple[float, ...]) -> Shape:
    """A knock: oscillation that dies out, no net change."""
    amplitude = sum(abs(a) for a in amps)
    tau = settle_s / math.log(max(amplitude / SETTLED_G, math.e))
    return Shape("ring", t0, channels, amps, tau, freq_hz)


def split_over(channels: tuple[int, ...], grams: float, weights: np.ndarray) -> tuple[float, ...]:
    """Distribute `grams` over channels in proportion to `weights` (where on the plate it sits)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return tuple(float(grams * v) for v in w[: len(channels)])
