"""Physical parameters of the simulated shelf, each with its real-world basis (docs/simulator.md).

Everything is in grams and seconds. Ranges are (low, high) for a uniform draw per channel,
plate or action from the scenario seed, so two shelves built from different seeds differ the
way two real shelves do, while one seed always builds the same shelf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ADC_MIN = -(2**23)  # 24-bit signed HX711-class converter: where the channel saturates
ADC_MAX = 2**23 - 1

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Physics:
    # Calibration of each cell+ADC: counts per gram and the zero offset (bridge imbalance).
    counts_per_gram: Range = (380.0, 460.0)
    offset_counts: Range = (-200_000.0, 200_000.0)
    # Electrical noise of a quiet plate (plate sum, grams-equivalent, 1 sigma).
    quiet_sigma_g: Range = (0.6, 1.4)
    # Mechanical vibration while a shopper handles the shelf: lognormal over actions.
    handling_sigma_median_g: float = 4.0
    handling_sigma_p90_g: float = 10.0
    vibration_hz: float = 12.0  # low-pass corner of that vibration (a shelf's first modes, 5-20 Hz)
    # Damped oscillation after a load change, and how long until within ~1 g.
    settle_s: Range = (0.3, 1.5)
    oscillation_hz: Range = (4.0, 12.0)
    # The hand: pressing force during a pick, and how long it stays.
    hand_press_g: Range = (20.0, 400.0)  # log-uniform: tens to hundreds of grams
    dwell_s: Range = (0.4, 1.8)
    # Load-cell creep: a fraction of each load change, reached exponentially.
    creep_fraction: Range = (0.0002, 0.0005)
    creep_tau_s: Range = (60.0, 300.0)
    # Zero drift (temperature): random walk + slow sinusoid, per channel.
    drift_walk_g_per_sqrt_h: float = 6.0
    drift_sine_amplitude_g: Range = (4.0, 15.0)
    drift_sine_period_s: Range = (1800.0, 7200.0)
    # Empty tray on each plate.
    tray_g: Range = (300.0, 900.0)

    def handling_sigma(self, normal_draw: float) -> float:
        """Map one standard-normal draw to a vibration sigma (median and p90 as configured)."""
        spread = math.log(self.handling_sigma_p90_g / self.handling_sigma_median_g) / 1.2815516
        return self.handling_sigma_median_g * math.exp(spread * normal_draw)

    def quiet(self) -> Physics:
        """A copy with no drift and no creep (for tests that isolate one effect)."""
        return Physics(
            counts_per_gram=self.counts_per_gram,
            offset_counts=self.offset_counts,
            quiet_sigma_g=self.quiet_sigma_g,
            drift_walk_g_per_sqrt_h=0.0,
            drift_sine_amplitude_g=(0.0, 0.0),
            creep_fraction=(0.0, 0.0),
        )
