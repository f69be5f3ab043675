"""[weighing]: calibration defaults, stability and event detection. (Owner: weighing.)

Every default is chosen for a shelf of 1-4 load cells per plate sampled at 10-80 SPS with
about 0.3-1 g of noise; see docs/weighing.md for what each knob trades.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from edge.config.base import Section, problem_at


class WeighingSection(Section):
    counts_per_gram: float = Field(
        default=420.0, gt=0, description="Default scale of every channel until a calibration is stored."
    )
    min_event_g: float = Field(default=10.0, gt=0, description="Smallest change reported as an event.")
    saturation_counts: int = Field(
        default=8_388_607,
        gt=0,
        description="A channel at or beyond +-this raw count is at its ADC rail (24-bit: 2^23 - 1) and is faulty.",
    )
    initial_noise_g: float = Field(
        default=0.5, gt=0, description="Noise sigma per plate assumed until it is measured while quiet."
    )
    noise_floor_g: float = Field(
        default=0.1, gt=0, description="The measured noise sigma is never taken below this."
    )
    noisy_sigma_g: float = Field(
        default=3.0, gt=0, description="Events on a plate whose measured noise sigma exceeds this are 'noisy'."
    )
    settle_window_s: float = Field(
        default=0.4, gt=0, le=5, description="Length of the flat window that closes an active segment."
    )
    settle_min_samples: int = Field(
        default=12, ge=3, le=200, description="The settle window holds at least this many samples (low SPS)."
    )
    settle_sigmas: float = Field(
        default=2.5, gt=0, description="A window is flat when every sample is within this many sigmas of its median."
    )
    settle_noise_ratio: float = Field(
        default=1.5, gt=1, description="...and its spread is at most this many times the plate's quiet noise."
    )
    open_sigmas: float = Field(
        default=5.0, gt=0, description="A plate turns active when it leaves its level by this many sigmas..."
    )
    open_fraction: float = Field(
        default=0.3, gt=0, lt=1, description="...and by at least this fraction of min_event_g."
    )
    max_active_s: float = Field(
        default=30.0, gt=0, description="An active segment longer than this is closed as a 'forced' event."
    )
    group_onset_s: float = Field(
        default=0.12,
        ge=0,
        description="Plates whose changes begin within this time (or 1.5 samples) may form one event...",
    )
    group_change_s: float = Field(
        default=0.03,
        ge=0,
        description="...if they also first passed half-way to their new levels within this time (interpolated).",
    )
    group_profile_same_g: float = Field(
        default=8.0,
        ge=0,
        description="Neighbouring plates whose changes are proportional all along (one rigid item) within this "
        "much vibration (grams) form one event even when their onsets or crossing times differ...",
    )
    group_profile_onset_s: float = Field(
        default=0.6, ge=0, description="...if their changes began within this time."
    )
    group_profile_differ_g: float = Field(
        default=16.0,
        ge=0,
        description="Plates whose changes are further than this (grams of vibration) from proportional are never "
        "one item (two hands), whatever their timing.",
    )
    group_wait_s: float = Field(
        default=7.0,
        ge=0,
        description="A settled plate waits at most this long for co-active plates and shaking neighbours.",
    )
    group_adjacent_only: bool = Field(
        default=True,
        description="Plates are listed in shelf order: only neighbours can share one item's event.",
    )
    hold_above_g: float = Field(
        default=1500.0,
        gt=0,
        description="Weight added beyond this (a leaning arm: a forearm alone is ~1.5 kg) is held until it "
        "persists; heavy picks are not held...",
    )
    hold_s: float = Field(default=7.0, ge=0, description="...for this long; a change that comes back is dropped.")
    zero_track_rate_g_per_s: float = Field(
        default=0.12,
        ge=0,
        le=5,
        description="Automatic zero tracking moves a plate's level at most this fast (a temperature cycle moves a "
        "plate's zero by up to ~0.1 g/s; a real load arrives in seconds).",
    )
    zero_track_band_fraction: float = Field(
        default=0.5, gt=0, le=1, description="Zero tracking acts only within +-this fraction of min_event_g."
    )

    @model_validator(mode="after")
    def _thresholds_consistent(self) -> WeighingSection:
        if self.open_fraction > self.zero_track_band_fraction:
            raise problem_at(
                "open_fraction",
                f"must be at most zero_track_band_fraction ({self.zero_track_band_fraction:g}): a plate would "
                "leave its band without turning active, and zero tracking could never follow it",
                self.open_fraction,
            )
        return self
