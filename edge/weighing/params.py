"""The [weighing] settings turned into the detectors' and the grouping's parameters at a measured sample rate."""

from __future__ import annotations

from edge.config.weighing import WeighingSection
from edge.weighing.grouping import GroupingParams
from edge.weighing.plate import DetectorParams


def detector_params(w: WeighingSection, period: float) -> DetectorParams:
    """Per-plate detector settings at `period` seconds per sample."""
    return DetectorParams(
        window=max(w.settle_min_samples, round(w.settle_window_s / period)),
        smooth_span=max(1, round(0.1 / period)),
        min_event_g=w.min_event_g,
        initial_noise_g=w.initial_noise_g,
        noise_floor_g=w.noise_floor_g,
        settle_sigmas=w.settle_sigmas,
        settle_noise_ratio=w.settle_noise_ratio,
        open_sigmas=w.open_sigmas,
        open_fraction=w.open_fraction,
        max_active_s=w.max_active_s,
        zero_track_rate_g_per_s=w.zero_track_rate_g_per_s,
        zero_track_band_g=w.zero_track_band_fraction * w.min_event_g,
    )


def grouping_params(w: WeighingSection, period: float) -> GroupingParams:
    """Settings that decide which plates' changes form one event, at `period` seconds per sample."""
    return GroupingParams(
        min_event_g=w.min_event_g,
        onset_s=max(w.group_onset_s, 1.5 * period),
        change_s=w.group_change_s,
        wait_s=w.group_wait_s,
        adjacent_only=w.group_adjacent_only,
        noisy_sigma_g=w.noisy_sigma_g,
        smooth_span=max(1, round(0.1 / period)),
        profile_onset_s=w.group_profile_onset_s,
        profile_same_g=w.group_profile_same_g,
        profile_differ_g=w.group_profile_differ_g,
    )
