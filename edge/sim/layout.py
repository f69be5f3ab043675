"""The simulated shelf's wiring and per-channel constants: plates -> channels, calibration, noise.

Built once from the seed, so the same seed gives the same shelf (same offsets, same noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from edge.errors import ConfigError
from edge.sim.physics import Physics

if TYPE_CHECKING:
    from edge.config import NodeConfig


@dataclass(frozen=True, slots=True)
class PlateSpec:
    name: str
    channels: tuple[int, ...]


@dataclass(frozen=True)
class ShelfLayout:
    """Channels, plates and the constants of every channel (index = channel number)."""

    channels: int
    plates: tuple[PlateSpec, ...]
    counts_per_gram: np.ndarray  # (channels,)
    offsets: np.ndarray  # (channels,) counts at zero load, int64
    noise_g: np.ndarray  # (channels,) sigma of electrical noise in grams
    creep_fraction: np.ndarray  # (channels,)
    creep_tau_s: np.ndarray  # (channels,)
    drift_walk_g_per_s: np.ndarray  # (channels,) random-walk sigma per sqrt(second)
    drift_sine: np.ndarray  # (channels, 3): signed amplitude g, period s, phase rad
    physics: Physics

    @classmethod
    def build(cls, plates: list[PlateSpec], channels: int, seed: int, physics: Physics | None = None) -> ShelfLayout:
        physics = physics or Physics()
        _check_wiring(plates, channels)
        rng = np.random.default_rng([seed, 0x5E1F])
        noise = np.zeros(channels)
        for plate in plates:
            plate_sigma = rng.uniform(*physics.quiet_sigma_g)
            for channel in plate.channels:  # independent cells: the plate sum has plate_sigma
                noise[channel] = plate_sigma / math.sqrt(len(plate.channels))
        unused = noise == 0
        noise[unused] = rng.uniform(*physics.quiet_sigma_g, size=int(unused.sum()))
        return cls(
            channels=channels,
            plates=tuple(plates),
            counts_per_gram=rng.uniform(*physics.counts_per_gram, size=channels),
            offsets=np.round(rng.uniform(*physics.offset_counts, size=channels)).astype(np.int64),
            noise_g=noise,
            creep_fraction=rng.uniform(*physics.creep_fraction, size=channels),
            creep_tau_s=rng.uniform(*physics.creep_tau_s, size=channels),
            drift_walk_g_per_s=np.full(channels, physics.drift_walk_g_per_sqrt_h / 60.0),
            drift_sine=_temperature_drift(rng, physics, channels),
            physics=physics,
        )

    @classmethod
    def from_config(cls, config: NodeConfig, seed: int, physics: Physics | None = None) -> ShelfLayout:
        plates = [PlateSpec(p.name, tuple(p.channels)) for p in config.plates]
        return cls.build(plates, config.serial.channels, seed, physics)

    @classmethod
    def default(cls, plates: int = 4, cells_per_plate: int = 2, seed: int = 0) -> ShelfLayout:
        specs = [
            PlateSpec(f"p{i + 1}", tuple(range(i * cells_per_plate, (i + 1) * cells_per_plate))) for i in range(plates)
        ]
        return cls.build(specs, plates * cells_per_plate, seed)

    def plate_index(self, name: str) -> int:
        for index, plate in enumerate(self.plates):
            if plate.name == name:
                return index
        known = ", ".join(p.name for p in self.plates)
        raise ConfigError(f"unknown plate {name!r}; the shelf has plates {known}")

    def plate_names(self) -> list[str]:
        return [p.name for p in self.plates]

    def neighbours(self, index: int) -> list[int]:
        """Plates mechanically coupled to plate `index` (the ones beside it on the shelf)."""
        return [i for i in (index - 1, index + 1) if 0 <= i < len(self.plates)]

    def plate_grams(self, channel_grams: np.ndarray) -> np.ndarray:
        """(n, channels) grams -> (n, plates) grams."""
        return np.column_stack([channel_grams[:, list(p.channels)].sum(axis=1) for p in self.plates])

    def counts_to_grams(self, counts: np.ndarray) -> np.ndarray:
        return (counts - self.offsets) / self.counts_per_gram

    def calibration_header(self) -> dict[str, str]:
        return {
            "sim_counts_per_gram": ",".join(f"{v:.4f}" for v in self.counts_per_gram),
            "sim_offsets": ",".join(str(int(v)) for v in self.offsets),
            "plates": ";".join(f"{p.name}={'+'.join(str(c) for c in p.channels)}" for p in self.plates),
        }


def _temperature_drift(rng: np.random.Generator, physics: Physics, channels: int) -> np.ndarray:
    """One shelf temperature cycle (common period and phase); each cell's zero follows it with
    its own temperature coefficient, so amplitudes differ per cell and some cells drift down."""
    amplitude = rng.uniform(*physics.drift_sine_amplitude_g, size=channels) * rng.choice([-1.0, 1.0], size=channels)
    period = np.full(channels, rng.uniform(*physics.drift_sine_period_s))
    phase = np.full(channels, rng.uniform(0.0, 2 * math.pi))
    return np.column_stack([amplitude, period, phase])


def _check_wiring(plates: list[PlateSpec], channels: int) -> None:
    if not plates:
        raise ConfigError("the simulated shelf needs at least one plate")
    owner: dict[int, str] = {}
    for plate in plates:
        if not 1 <= len(plate.channels) <= 4:
            raise ConfigError(f"plate {plate.name!r}: needs 1..4 channels, got {len(plate.channels)}")
        for channel in plate.channels:
            if not 0 <= channel < channels:
                raise ConfigError(f"plate {plate.name!r}: channel {channel} outside 0..{channels - 1}")
            if channel in owner:
                raise ConfigError(f"plate {plate.name!r}: channel {channel} already belongs to {owner[channel]!r}")
            owner[channel] = plate.name
