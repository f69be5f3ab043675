"""The weighing pipeline the daemon and `replay` call: WeightFrame in, WeightEvents out.

    weigher = Weigher(config, CalibrationStore.in_state_dir(config.node.state_dir))
    for frame in frames:                       # one thread
        for event in weigher.feed(frame): ...
    weigher.status(); weigher.tare("p1")       # any other thread (a lock guards the state)
    weigher.observe_board(info.uid, info.firmware)   # each MCU info frame (the processing thread)
    weigher.flush(now)                         # a stop, the end of a capture: what is under way, now

Frames are processed in their own time (`frame.t`), never the wall clock, so a replay gives
the same events as the live run. The sample rate is measured from the first frames. A gap in
the frames' times of OUTAGE_MIN_S (or OUTAGE_SAMPLES samples) or more is a serial outage: a
change found after it starts at the last sample before it and is flagged `serial_outage`.
A step of the host's wall clock between consecutive MCU samples is no outage (edge/weighing/clock_steps.py).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from dataclasses import replace
from typing import Any

from edge.config import NodeConfig
from edge.errors import CalibrationError, NotStableError
from edge.loadcell.channel_faults import FAULT_HOLD_S, ChannelFaults
from edge.loadcell.protocol import sends_grams
from edge.model import PlateReading, WeightEvent, WeightFrame
from edge.weighing.board import BoardWatch
from edge.weighing.board_commands import BoardCommands
from edge.weighing.calibration import Calibration, ChannelCalibration, apply_fit, check_fit, fit_plate
from edge.weighing.clock_steps import ClockSteps
from edge.weighing.grouping import clusters, decide, started_with
from edge.weighing.hold import HeavyChangeHold
from edge.weighing.params import detector_params, grouping_params
from edge.weighing.plate import DetectorParams, PlateDetector, Segment, State
from edge.weighing.status import PlateStatus, WeigherStatus
from edge.weighing.store import CalibrationStore, default_counts_per_gram

log = logging.getLogger(__name__)

RATE_FRAMES = 9  # frames used to measure the sample rate before detection starts
OUTAGE_MIN_S = 1.0  # frames this far apart mean the port was lost (a reopen alone takes >= 0.5 s)...
OUTAGE_SAMPLES = 10  # ...or, at low rates, this many sample periods


class Weigher(BoardCommands):
    def __init__(self, config: NodeConfig, store: CalibrationStore | None = None) -> None:
        self.config = config
        self.store = store
        self._lock = threading.Lock()
        w = config.weighing
        channels = config.serial.channels
        self._grams_source = sends_grams(config.serial)
        self.default_scale = default_counts_per_gram(config)
        self.calibration = (
            store.load(channels, self.default_scale) if store else Calibration.defaults(channels, self.default_scale)
        )
        self.plate_names = config.plate_names()
        self._plate_channels = [list(plate.channels) for plate in config.plates]
        self._max_g = [plate.max_g for plate in config.plates]
        self._over_range_t: list[float | None] = [None] * len(config.plates)  # last reading beyond max_g
        self.faults = ChannelFaults.from_config(config)
        self._outage_gap_s = OUTAGE_MIN_S
        self.serial_outages = 0
        self.steps = ClockSteps()
        self._board = BoardWatch()
        self._params: DetectorParams | None = None
        self._grouping = grouping_params(w, 1 / 80)
        self._hold = HeavyChangeHold(w.hold_above_g, w.hold_s, w.min_event_g)
        self._detectors: list[PlateDetector] = []
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
            return self.steps.to_wall(self._feed(frame) if self._detectors else self._measure_rate(frame))

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
        self._params = params = detector_params(w, period)
        self._detectors = [PlateDetector(i, params) for i in range(len(self.plate_names))]
        self._grouping = grouping_params(w, period)
        self._outage_gap_s = max(OUTAGE_MIN_S, OUTAGE_SAMPLES * period)
        log.info("weighing: %.1f samples/s, settle window %d samples", 1 / period, params.window)

    def _rebuild_conversion(self) -> None:
        cal = self.calibration.channels
        self._conversion = [
            [(ch, cal[ch].offset, cal[ch].counts_per_gram) for ch in channels] for channels in self._plate_channels
        ]

    def _feed(self, frame: WeightFrame) -> list[WeightEvent]:
        t = self.steps.weighing_time(frame, self._last_t, self._outage_gap_s)
        if t - self._last_t >= self._outage_gap_s:  # False for the first frame (NaN)
            self.serial_outages += 1
            for detector in self._detectors:
                detector.outage()
        self._last_t = t
        self.frames += 1
        counts = frame.counts
        faults = self.faults.observe(t, counts)
        for detector, conversion in zip(self._detectors, self._conversion, strict=True):
            total = 0.0
            usable = True
            for ch, offset, scale in conversion:
                value = counts[ch] if faults[ch] is None else None
                if value is None:
                    usable = False
                    break
                total += (value - offset) / scale
            if usable and abs(total) > self._max_g[detector.index]:
                self._over_range_t[detector.index] = t
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

    def flush(self, now: float) -> list[WeightEvent]:
        """A stop, or the end of a capture: report every change begun and not reported yet, at once, each
        flagged `stopped_early`. A plate still active is closed as it stands (quality `forced`: its grams
        are what it weighed at `now`); a cluster waiting for calm neighbours is decided now; a heavy put held
        for the lean test is released (`held`). `now` is the stop on the frames' clock (replay: the last
        frame's time). Nothing is reported before weighing has started (a plate warming up has no level to
        compare with). A second flush finds nothing; frames fed afterwards are weighed as usual."""
        with self._lock:
            if not self._detectors:
                return []
            now -= self.steps.total_s  # onto the weighing timeline
            for detector in self._detectors:
                if detector.cut() is not None:
                    self._closed_at[detector.index] = now
            events = self._resolve(now, force=True) if self._closed_at else []
            events += self._hold.release()
            events = [replace(e, flags=(*e.flags, "stopped_early")) for e in self.steps.to_wall(events)]
            self.events += len(events)
            return sorted(events, key=lambda e: e.t_start)

    def _resolve(self, now: float, force: bool = False) -> list[WeightEvent]:
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
            if (waiting or shaking) and now - first_closed <= self._grouping.wait_s and not force:
                continue
            decision = decide(group, self.plate_names, self._faulty_by_plate(now), self._grouping)
            for index in decision.commit:
                self._detectors[index].commit()
            for index in decision.reject:
                self._detectors[index].reject()
            for index in members:
                del self._closed_at[index]
            for event in decision.events:
                events += self._hold.offer(self._flagged(event), now)
        return sorted(events, key=lambda e: e.t_start)

    def _flagged(self, event: WeightEvent) -> WeightEvent:
        """Add what the plates' segments cannot know: a plate beyond its range, another board."""
        flags = [f"over_range:{name}" for name in event.plate_deltas
                 if (last := self._over_range_t[self.plate_names.index(name)]) is not None and last >= event.t_start]
        if self._board.change is not None:
            flags.append("board_changed")
        return replace(event, flags=(*event.flags, *flags)) if flags else event

    def _faulty_by_plate(self, now: float) -> dict[int, list[int]]:
        result: dict[int, list[int]] = {}
        for index, channels in enumerate(self._plate_channels):
            bad = [ch for ch in channels if self.faults.faulty_at(ch, now)]
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

    def settling(self) -> bool:
        """A change has begun and is not reported yet: a plate active or settled but undecided, or a heavy put
        held (the node waits a little for it at stop before `flush`)."""
        with self._lock:
            busy = any(d.state in (State.ACTIVE, State.PENDING) for d in self._detectors)
            return busy or bool(self._closed_at) or self._hold.holding

    def reading(self) -> PlateReading:
        with self._lock:
            return PlateReading(self._last_t + self.steps.total_s, tuple(d.last_grams for d in self._detectors))

    def status(self) -> WeigherStatus:
        """A frozen copy: per plate grams, stability, noise, levels, faulty channels; channel faults; board."""
        with self._lock:
            now = self._last_t
            seen = math.isfinite(now)
            faulty = self._faulty_by_plate(now) if seen else {}
            plates: dict[str, PlateStatus] = {}
            for index, name in enumerate(self.plate_names):
                d = self._detectors[index] if self._detectors else None
                plates[name] = PlateStatus(
                    grams=_json_float(d.last_grams) if d else None,
                    stable=bool(d and d.stable),
                    state=d.state.value if d else "starting",
                    noise_sigma_g=_json_float(d.sigma) if d else None,
                    reference_g=_json_float(d.reference) if d else None,
                    level_g=_json_float(d.level) if d else None,
                    channels=tuple(self._plate_channels[index]),
                    faulty_channels=tuple(faulty.get(index, [])),
                    over_range=(last := self._over_range_t[index]) is not None and now - last < FAULT_HOLD_S,
                )
            return WeigherStatus(
                t=_json_float(now + self.steps.total_s),
                samples_per_s=_json_float(1 / self.sample_period_s) if self.sample_period_s > 0 else None,
                shelf_stable=self._shelf_stable(),
                calibration=self.calibration.source,
                calibrated_plates=tuple(sorted(self.calibration.plate_fits)),
                plates=plates,
                channels=self.faults.status(now),
                frames=self.frames,
                events=self.events,
                board=self.calibration.board,
                board_changed=self._board.change,
                serial_outages=self.serial_outages,
                clock_steps=self.steps.count,
            )

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
            check_fit(fit, new, points, calibrated=plate in self.calibration.plate_fits,
                      grams_source=self._grams_source, max_g=self._max_g[index])
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
        """Save and use a calibration made now: with the board seen now, which clears a board change."""
        calibration = Calibration(calibration.channels, {**calibration.plate_fits, **plate_fits}, calibration.source,
                                  self._board.seen or calibration.board)
        if self.store is not None:
            self.store.save(calibration)
            calibration = replace(calibration, source=str(self.store.path))
        self.calibration = calibration
        self._board.change = None
        self._rebuild_conversion()

    def _restart(self, indices: range | list[int]) -> None:  # new detectors: warm-up, new calibration
        self._rebuild_conversion()
        if (params := self._params) is not None:
            for index in indices:
                self._detectors[index] = PlateDetector(index, params)
                self._closed_at.pop(index, None)

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
            raise CalibrationError(f"unknown plate {plate!r}; the configured plates are "
                                   f"{', '.join(self.plate_names)}") from None


def _json_float(value: float | None) -> float | None:
    return round(value, 4) if value is not None and math.isfinite(value) else None
