"""The weighing pipeline the daemon and `replay` call: WeightFrame in, WeightEvents out.

    weigher = Weigher(config, CalibrationStore.in_state_dir(config.node.state_dir))
    for frame in frames:                       # one thread
        for event in weigher.feed(frame): ...
    weigher.status(); weigher.tare("p1")       # any other thread (a lock guards the state)

Frames are processed in their own time (`frame.t`), never the wall clock, so a replay gives
the same events as the live run. The sample rate is measured from the first frames.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from typing import Any

from edge.config import NodeConfig
from edge.errors import CalibrationError, NotStableError
from edge.model import PlateReading, WeightEvent, WeightFrame
from edge.weighing.calibration import Calibration, ChannelCalibration, apply_fit, fit_plate
from edge.weighing.channels import ChannelHealth, fault_kind
from edge.weighing.grouping import GroupingParams, clusters, decide, started_with
from edge.weighing.hold import HeavyChangeHold
from edge.weighing.plate import DetectorParams, PlateDetector, Segment, State
from edge.weighing.store import CalibrationStore

log = logging.getLogger(__name__)

RATE_FRAMES = 9  # frames used to measure the sample rate before detection starts


class Weigher:
    def __init__(self, config: NodeConfig, store: CalibrationStore | None = None) -> None:
        self.config = config
        self.store = store
        self._lock = threading.Lock()
        w = config.weighing
        channels = config.serial.channels
        default_scale = w.counts_per_gram
        if config.serial.protocol == "plain" and config.serial.plain_units == "grams":
            default_scale = 1.0
        self.calibration = (
            store.load(channels, default_scale) if store else Calibration.defaults(channels, default_scale)
        )
        self.plate_names = config.plate_names()
        self._plate_channels = [list(plate.channels) for plate in config.plates]
        self._saturation = float(w.saturation_counts)
        self.health = [ChannelHealth() for _ in range(channels)]
        self._grouping = self._grouping_params(1 / 80)
        self._hold = HeavyChangeHold(w.hold_above_g, w.hold_s, w.min_event_g)
        self._detectors: list[PlateDetector] = []
        self._rate_times: list[float] = []
        self._held: list[WeightFrame] = []
        self.sample_period_s = math.nan
        self._closed_at: dict[int, float] = {}
        self._last_t = math.nan
        self.frames = 0
        self.events = 0
        self._rebuild_conversion()

    # ---- feeding --------------------------------------------------------------------------------
    def feed(self, frame: WeightFrame) -> list[WeightEvent]:
        """Process one frame; return the weight events that completed with it (usually none)."""
        with self._lock:
            if not self._detectors:
                return self._measure_rate(frame)
            return self._feed(frame)

    def _measure_rate(self, frame: WeightFrame) -> list[WeightEvent]:
        self._held.append(frame)
        if len(self._held) < RATE_FRAMES:
            return []
        times = [f.t for f in self._held]
        gaps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
        period = gaps[len(gaps) // 2] if gaps else 1 / 80
        self._start_detectors(period)
        events: list[WeightEvent] = []
        for held in self._held:
            events += self._feed(held)
        self._held.clear()
        return events

    def _start_detectors(self, period: float) -> None:
        w = self.config.weighing
        self.sample_period_s = period
        window = max(w.settle_min_samples, round(w.settle_window_s / period))
        params = DetectorParams(
            window=window,
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
        self._detectors = [PlateDetector(i, params) for i in range(len(self.plate_names))]
        self._grouping = self._grouping_params(period)
        log.info("weighing: %.1f samples/s, settle window %d samples", 1 / period, window)

    def _grouping_params(self, period: float) -> GroupingParams:
        w = self.config.weighing
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

    def _rebuild_conversion(self) -> None:
        cal = self.calibration.channels
        self._conversion = [
            [(ch, cal[ch].offset, cal[ch].counts_per_gram) for ch in channels] for channels in self._plate_channels
        ]

    def _feed(self, frame: WeightFrame) -> list[WeightEvent]:
        t = frame.t
        self._last_t = t
        self.frames += 1
        counts = frame.counts
        n_counts = len(counts)
        saturation = self._saturation
        for detector, conversion in zip(self._detectors, self._conversion, strict=True):
            total = 0.0
            usable = True
            for ch, offset, scale in conversion:
                value = counts[ch] if ch < n_counts else None
                if value is None or value != value or value >= saturation or value <= -saturation:
                    self.health[ch].record(t, fault_kind(value, saturation))
                    usable = False
                    continue
                if self.health[ch].consecutive:
                    self.health[ch].record(t, None)
                total += (value - offset) / scale
            if detector.push(t, total if usable else None) is not None:
                self._closed_at[detector.index] = t
            elif detector.withdrawn:
                detector.withdrawn = False
                del self._closed_at[detector.index]
        events = self._resolve(t) if self._closed_at else []
        if self._hold.holding:
            busy = {self.plate_names[d.index] for d in self._detectors if d.state in (State.ACTIVE, State.PENDING)}
            events += self._hold.due(t, busy)
        if events:
            self.events += len(events)
        return events

    def _resolve(self, now: float) -> list[WeightEvent]:
        pending: list[Segment] = [d.pending for d in self._detectors if d.pending is not None]
        events: list[WeightEvent] = []
        for group in clusters(pending, self._grouping):
            first_closed = min(self._closed_at[s.plate] for s in group)
            members = {s.plate for s in group}
            waiting = any(
                d.state is State.ACTIVE
                and d.active_since is not None
                and d.index not in members
                and started_with(group, d.active_since, d.index, self._grouping)
                for d in self._detectors
            )
            neighbours = {n for m in members for n in (m - 1, m + 1) if 0 <= n < len(self._detectors)} - members
            shaking = any(not self._detectors[n].calm for n in neighbours)
            if (waiting or shaking) and now - first_closed <= self._grouping.wait_s:
                continue
            decision = decide(group, self.plate_names, self._faulty_by_plate(now), self._grouping)
            for index in decision.commit:
                self._detectors[index].commit()
            for index in decision.reject:
                self._detectors[index].reject()
            for index in members:
                del self._closed_at[index]
            for event in decision.events:
                events += self._hold.offer(event, now)
        return sorted(events, key=lambda e: e.t_start)

    def _faulty_by_plate(self, now: float) -> dict[int, list[int]]:
        result: dict[int, list[int]] = {}
        for index, channels in enumerate(self._plate_channels):
            bad = [ch for ch in channels if self.health[ch].faulty_at(now)]
            if bad:
                result[index] = bad
        return result

    # ---- readings and status ---------------------------------------------------------------------
    def shelf_stable(self) -> bool:
        """Every plate stable (cheap: the daemon asks after every frame to steer the camera's rate)."""
        with self._lock:
            return self._shelf_stable()

    def _shelf_stable(self) -> bool:
        return bool(self._detectors) and all(d.stable for d in self._detectors)

    def reading(self) -> PlateReading:
        with self._lock:
            return PlateReading(self._last_t, tuple(d.last_grams for d in self._detectors))

    def status(self) -> dict[str, Any]:
        """JSON-safe snapshot: per plate grams, stability, noise, levels, faulty channels."""
        with self._lock:
            now = self._last_t
            faulty = self._faulty_by_plate(now) if math.isfinite(now) else {}
            plates: dict[str, Any] = {}
            for index, name in enumerate(self.plate_names):
                d = self._detectors[index] if self._detectors else None
                plates[name] = {
                    "grams": _json_float(d.last_grams) if d else None,
                    "stable": bool(d and d.stable),
                    "state": d.state.value if d else "starting",
                    "noise_sigma_g": _json_float(d.sigma) if d else None,
                    "reference_g": _json_float(d.reference) if d else None,
                    "level_g": _json_float(d.level) if d else None,
                    "channels": self._plate_channels[index],
                    "faulty_channels": faulty.get(index, []),
                }
            return {
                "t": _json_float(now),
                "samples_per_s": _json_float(1 / self.sample_period_s) if self.sample_period_s > 0 else None,
                "shelf_stable": self._shelf_stable(),
                "calibration": self.calibration.source,
                "calibrated_plates": sorted(self.calibration.plate_fits),
                "plates": plates,
                "channels": {str(i): h.as_dict(now) for i, h in enumerate(self.health)},
                "frames": self.frames,
                "events": self.events,
            }

    # ---- tare and calibration ---------------------------------------------------------------------
    def stable_reading(self, plate: str) -> float:
        """The plate's current level in grams; NotStableError unless it is quiet and flat."""
        with self._lock:
            return self._stable_level(self._index(plate))

    def tare(self, plate: str | None = None) -> dict[str, float]:
        """Zero one plate (or every plate): returns the grams removed per plate. All or nothing."""
        with self._lock:
            indices = [self._index(plate)] if plate is not None else list(range(len(self.plate_names)))
            levels = {i: self._stable_level(i) for i in indices}  # raises before anything changes
            updates = {}
            for index, level in levels.items():
                channels = self._plate_channels[index]
                for ch in channels:
                    old = self.calibration.channels[ch]
                    shift = level / len(channels) * old.counts_per_gram
                    updates[ch] = ChannelCalibration(old.offset + shift, old.counts_per_gram)
            self._install(self.calibration.with_channels(updates), {})
            for index, level in levels.items():
                self._detectors[index].remap(1.0, -level)
            return {self.plate_names[i]: level for i, level in levels.items()}

    def calibrate(self, plate: str, points: list[tuple[float, float]]) -> float:
        """Fit the plate to (reading_g, known_g) points read with the current calibration.

        Returns the RMS residual in grams. Saves the result when a store is attached.
        """
        with self._lock:
            index = self._index(plate)
            fit = fit_plate(plate, points)
            channels = self._plate_channels[index]
            new = apply_fit([self.calibration.channels[ch] for ch in channels], fit)
            record = {
                "calibrated_at": time.time(),
                "points": fit.points,
                "residual_g": fit.residual_g,
                "scale_correction": fit.scale_correction,
                "zero_correction_g": fit.zero_correction_g,
            }
            self._install(self.calibration.with_channels(dict(zip(channels, new, strict=True))), {plate: record})
            if self._detectors:
                self._detectors[index].remap(fit.scale_correction, fit.zero_correction_g)
            return fit.residual_g

    def _install(self, calibration: Calibration, plate_fits: dict[str, dict[str, Any]]) -> None:
        calibration = Calibration(calibration.channels, {**calibration.plate_fits, **plate_fits}, calibration.source)
        if self.store is not None:
            self.store.save(calibration)
            calibration = Calibration(calibration.channels, calibration.plate_fits, str(self.store.path))
        self.calibration = calibration
        self._rebuild_conversion()

    def _stable_level(self, index: int) -> float:
        if not self._detectors:
            raise NotStableError("weighing has not started yet (no samples); wait a second and retry")
        detector = self._detectors[index]
        level = detector.current_level()
        if level is None:
            raise NotStableError(
                f"plate {self.plate_names[index]!r} is not stable ({detector.state.value}); "
                f"keep hands off the shelf and retry in a second"
            )
        return level

    def _index(self, plate: str) -> int:
        try:
            return self.plate_names.index(plate)
        except ValueError:
            raise CalibrationError(
                f"unknown plate {plate!r}; the configured plates are {', '.join(self.plate_names)}"
            ) from None


def _json_float(value: float | None) -> float | None:
    return round(value, 4) if value is not None and math.isfinite(value) else None
