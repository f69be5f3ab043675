"""One plate's stability and change detector: quiet -> active -> (settled) segment.

Per sample (calibrated grams, or None when a channel of the plate is faulty):
1. a median-of-3 prefilter removes single-sample glitches (costs one sample of delay; the
   filtered value is stamped with the middle sample's time, so times are not biased);
2. QUIET: the plate turns ACTIVE when the filtered value leaves the current level by more than
   max(open_sigmas * sigma, open_fraction * min_event). Every settle window while quiet, noise
   sigma is re-measured (clipped mean absolute first difference) and, if the window is flat, the current level
   follows it and the reference level is zero-tracked towards it at a bounded rate, only inside
   +-band. A flat window that has drifted >= min_event from the reference (a slow real load that
   never looked like a step) closes a segment too, so a slow load is never absorbed;
3. ACTIVE: closes when the last K filtered samples are flat (each within settle_sigmas * sigma
   of their median, no trend between halves, and both filtered and raw spread no larger than
   the quiet noise allows: a hand resting on the plate trembles): the new level is the robust
   mean of those K raw samples. An active segment longer than max_active_s is 'forced';
4. PENDING: closed, waiting for the Weigher. If the plate moves again first, the segment is
   withdrawn and the change goes on from the same start (a hand that pressed, then lifted).
A closed segment is measured against the *reference* level (changed only by committed events
and zero tracking), so sub-threshold steps are carried into the next event, never lost.
The Weigher decides whether a segment becomes (part of) an event and calls commit() or reject().
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

from edge.weighing.marks import crossing_times
from edge.weighing.robust import half_means, median, median3, noise_sigma_from_differences, robust_mean


@dataclass(frozen=True, slots=True)
class DetectorParams:
    window: int  # K: samples in a settle window
    smooth_span: int  # samples in ~0.1 s: smoothing of the trace before timing a plate's change
    min_event_g: float
    initial_noise_g: float
    noise_floor_g: float
    settle_sigmas: float
    settle_noise_ratio: float
    open_sigmas: float
    open_fraction: float
    max_active_s: float
    zero_track_rate_g_per_s: float
    zero_track_band_g: float


@dataclass(frozen=True, slots=True)
class Segment:
    """A closed change on one plate, measured against its reference level."""

    plate: int
    t_start: float
    t_end: float
    level_before: float
    level_after: float
    sigma_g: float
    forced: bool
    faulty: bool
    noise_g: float
    t_marks: tuple[float, ...]  # when the plate first passed 25/50/75 % of the way (lift / arrival)
    t_change_sigma: float  # uncertainty of the 50 % mark (noise over slope), inf when not seen
    trace: tuple[tuple[float, float], ...] = ()  # (t, filtered g) from one window before the change to the settle
    outage: bool = False  # frames stopped during the change, or it may have begun while none came

    @property
    def delta_g(self) -> float:
        return self.level_after - self.level_before


GAP_SAMPLES = 3  # this many missing samples in a row hide the plate (one is a glitch)


class State(Enum):
    WARMUP = "warmup"
    QUIET = "quiet"
    ACTIVE = "active"
    PENDING = "pending"  # closed, waiting for the Weigher's commit() / reject()


class PlateDetector:
    def __init__(self, index: int, params: DetectorParams) -> None:
        self.index = index
        self.p = params
        self.state = State.WARMUP
        self.sigma = params.initial_noise_g
        self.reference = 0.0  # level events are measured against
        self.reference_var = params.initial_noise_g**2 / params.window
        self.level = 0.0  # current stable level (what the open test compares with)
        self.active_since: float | None = None  # t_start of the current activity
        self.last_t = math.nan
        self.last_grams: float | None = None
        self._raw3: deque[tuple[float, float]] = deque(maxlen=3)
        k = params.window
        self._times: deque[float] = deque(maxlen=k)
        self._filtered: deque[float] = deque(maxlen=k)
        self._raw: deque[float] = deque(maxlen=k)
        self._noise_buffer: list[float] = []
        self._since_check = 0
        self._onset_t: float | None = None  # first time the level left the quiet band
        self._drift_onset_t: float | None = None  # first time the level left the zero-tracking band
        self._segment_faulty = False
        self._active_samples = 0
        self._trace: list[tuple[float, float]] = []  # (t, filtered) since the change began
        self._last_window_flat = False
        self.withdrawn = False  # set when a pending segment was taken back (the plate moved again)
        self._pending: Segment | None = None
        self.faulty_samples = 0
        self._unseen_since: float | None = None  # last good sample before missing ones (while quiet)
        self._outage_since: float | None = None  # last sample before the frames stopped (while quiet)
        self._segment_outage = False
        self._missing = 0  # consecutive samples without a value

    # ---- per sample -------------------------------------------------------------------------
    def outage(self) -> None:
        """No frames came for a while (the serial port was lost): like an unseen gap, a change may have
        begun meanwhile; one found next starts at the last sample before the outage and is flagged."""
        if self.state is State.QUIET:
            if self._outage_since is None and self._times:
                self._outage_since = self._times[-1]
        elif self.state is not State.WARMUP:
            self._segment_outage = True

    def push(self, t: float, grams: float | None) -> Segment | None:
        self.last_t = t
        self.last_grams = grams
        if grams is None:
            self.faulty_samples += 1
            self._missing += 1
            if self.state is not State.QUIET:
                self._segment_faulty = True
            elif self._missing >= GAP_SAMPLES and self._unseen_since is None and self._times:
                self._unseen_since = self._times[-1]  # a change may begin while the plate is not seen
            return None
        self._missing = 0
        self._raw3.append((t, grams))
        if len(self._raw3) < 3:
            return None
        (_, a), (t_mid, b), (_, c) = self._raw3
        filtered = median3(a, b, c)
        self._times.append(t_mid)
        self._filtered.append(filtered)
        self._raw.append(b)
        if self.state is State.QUIET:
            return self._quiet(t_mid, filtered)
        if self.state is State.ACTIVE:
            return self._active(t_mid)
        if self.state is State.PENDING:
            self._trace.append((t_mid, filtered))
            self._pending_check(filtered)
        elif self.state is State.WARMUP:
            self._warmup(b)
        return None

    @property
    def open_threshold(self) -> float:
        return max(self.p.open_sigmas * self.sigma, self.p.open_fraction * self.p.min_event_g)

    def _window_flat(self) -> bool:
        """K filtered samples all within settle_sigmas * sigma of their median, and no trend.

        The median-of-3 output has about 0.67 sigma of noise, so 2.5 sigma is ~3.7 of its own
        sigmas: a quiet window fails rarely, while the tail of a change still fails."""
        window = self._filtered
        if len(window) < self.p.window:
            return False
        limit = self.p.settle_sigmas * self.sigma
        high, low = max(window), min(window)
        if high - low > 2.0 * limit:
            return False
        centre = median(window)
        if high - centre > limit or centre - low > limit:
            return False
        first, second = half_means(window)
        if abs(second - first) > 4.0 * self.sigma * math.sqrt(4.0 / len(window)):
            return False
        # a hand resting on the plate is steady but trembles: the window must be as quiet as the
        # plate's own noise (filtered white noise has ~0.67 sigma; allow 1.6x that)
        mean = sum(window) / len(window)
        variance = sum((v - mean) ** 2 for v in window) / (len(window) - 1)
        if variance > (self.p.settle_noise_ratio * 0.67 * self.sigma) ** 2:
            return False
        # the median filter hides much of a tremor at low rates: check the raw samples too (a glitch
        # fails this, which only delays the settle by the window)
        raw = self._raw
        raw_mean = sum(raw) / len(raw)
        raw_variance = sum((v - raw_mean) ** 2 for v in raw) / (len(raw) - 1)
        return raw_variance <= (self.p.settle_noise_ratio * self.sigma) ** 2

    def _warmup(self, raw: float) -> None:
        self._noise_buffer.append(raw)
        if len(self._noise_buffer) < max(2 * self.p.window, 40):
            return
        measured = noise_sigma_from_differences(self._noise_buffer)
        if math.isfinite(measured):
            self.sigma = max(measured, self.p.noise_floor_g)
        if self._window_flat():
            self.level = self.reference = robust_mean(self._raw, self.sigma)
            self.reference_var = self.sigma**2 / len(self._raw)
            self._enter_quiet()
        else:
            del self._noise_buffer[: self.p.window]

    def _enter_quiet(self) -> None:
        self.state = State.QUIET
        self._last_window_flat = True
        self._trace = []
        self.active_since = None
        self._since_check = 0
        self._noise_buffer.clear()
        self._segment_faulty = False
        self._unseen_since = None
        self._outage_since = None
        self._segment_outage = False

    def _quiet(self, t: float, filtered: float) -> Segment | None:
        deviation = abs(filtered - self.level)
        if deviation <= 3.0 * self.sigma:
            self._onset_t = None
        elif self._onset_t is None:
            self._onset_t = t
        if deviation > self.open_threshold:
            self.state = State.ACTIVE
            self._active_samples = 0
            # keep the window before the opening: the start of the change, to compare with neighbours
            self._trace = list(zip(self._times, self._filtered, strict=True))
            self.active_since = next(c for c in (self._drift_onset_t, self._onset_t, t) if c is not None)
            if self._unseen_since is not None:  # it may have begun while the plate was not seen
                self.active_since = min(self.active_since, self._unseen_since)
                self._segment_faulty = True
            if self._outage_since is not None:  # ...or while no frames came at all
                self.active_since = min(self.active_since, self._outage_since)
                self._segment_outage = True
            return None
        self._noise_buffer.append(self._raw[-1])
        self._since_check += 1
        if self._since_check < self.p.window:
            return None
        self._since_check = 0
        return self._quiet_window_check()

    def _quiet_window_check(self) -> Segment | None:
        """Once per window while quiet: re-measure noise, follow the level, zero-track."""
        if len(self._noise_buffer) >= max(2 * self.p.window, 40):
            measured = noise_sigma_from_differences(self._noise_buffer)
            if math.isfinite(measured):
                self.sigma = max(0.8 * self.sigma + 0.2 * measured, self.p.noise_floor_g)
            self._noise_buffer.clear()
        self._last_window_flat = self._window_flat()
        if not self._last_window_flat:
            return None
        self._unseen_since = self._outage_since = None  # a flat window at the old level: nothing was hidden
        mean = sum(self._filtered) / len(self._filtered)
        self.level = mean
        offset = mean - self.reference
        if abs(offset) <= self.p.zero_track_band_g:
            self._drift_onset_t = None
            span = max(self._times[-1] - self._times[0], 0.0)  # host clock stepped back: no tracking
            step_limit = self.p.zero_track_rate_g_per_s * span * len(self._times) / max(len(self._times) - 1, 1)
            alpha = 0.25
            self.reference += max(-step_limit, min(step_limit, alpha * offset))
            self.reference_var = (1 - alpha) ** 2 * self.reference_var + alpha**2 * self.sigma**2 / len(self._raw)
            return None
        if self._drift_onset_t is None:
            self._drift_onset_t = self._times[0]
        if abs(offset) >= self.p.min_event_g:
            # a slow change that never tripped the open test: close it as a segment
            return self._close(self._drift_onset_t, forced=False)
        return None

    def _active(self, t: float) -> Segment | None:
        assert self.active_since is not None
        self._trace.append((t, self._filtered[-1]))
        self._active_samples += 1
        # the settle window must lie wholly after the opening sample, or a small opening excursion
        # inside a window of the old level could pass as flat
        if self._active_samples >= self.p.window and self._window_flat():
            return self._close(self.active_since, forced=False)
        if t - self.active_since > self.p.max_active_s and len(self._filtered) == self.p.window:
            return self._close(self.active_since, forced=True)
        return None

    def cut(self) -> Segment | None:
        """A stop (or the end of a capture) while the plate is active: close the change as it stands,
        forced, its new level the robust mean of the newest ~0.1 s of samples since it opened (a whole
        window would lag a change still under way) and its end the last sample. None unless active (a
        pending segment is closed already)."""
        if self.state is not State.ACTIVE or self.active_since is None or not self._raw:
            return None
        newest = min(max(self.p.smooth_span, 3), max(self._active_samples, 1), len(self._raw))
        return self._close(self.active_since, forced=True, last=newest)

    def _close(self, t_start: float, forced: bool, last: int | None = None) -> Segment:
        """`last`: only the newest samples measure the new level, and the change ends at the last one (cut)."""
        raw = list(self._raw)[-last:] if last else self._raw
        after = robust_mean(raw, self.sigma)
        sigma_after_sq = self.sigma**2 / len(raw)
        marks, t_change_sigma = crossing_times(self._trace, self.reference, after, self.p.smooth_span, t_start)
        segment = Segment(
            plate=self.index,
            t_start=t_start,
            t_end=self._times[-1] if last else self._times[0],
            level_before=self.reference,
            level_after=after,
            sigma_g=math.sqrt(self.reference_var + sigma_after_sq),
            forced=forced,
            faulty=self._segment_faulty,
            noise_g=self.sigma,
            t_marks=marks,
            t_change_sigma=t_change_sigma,
            trace=tuple(self._trace),
            outage=self._segment_outage,
        )
        self.state = State.PENDING
        self._pending = segment
        return segment

    def _pending_check(self, filtered: float) -> None:
        """A pending plate that moves again takes its segment back: the change goes on (a hand
        that pressed, held still, and now lifts the item), measured from the same start."""
        pending = self._pending
        assert pending is not None
        if abs(filtered - pending.level_after) <= self.open_threshold:
            return
        self._pending = None
        self.withdrawn = True
        self.state = State.ACTIVE
        self.active_since = pending.t_start
        self._active_samples = 0

    @property
    def calm(self) -> bool:
        """Quiet and its last window flat, or just settled: a neighbour may resolve its event."""
        if self.state is State.PENDING:
            return True
        return self.state is State.QUIET and self._last_window_flat

    # ---- the Weigher's decision ---------------------------------------------------------------
    def commit(self) -> None:
        """The segment became (part of) an event: its new level is the reference from now on."""
        segment = self._resolve()
        self.reference = self.level = segment.level_after
        self.reference_var = self.sigma**2 / self.p.window
        self._drift_onset_t = None

    def reject(self) -> None:
        """No event: the plate keeps its reference (the change is carried, or zero-tracked)."""
        segment = self._resolve()
        self.level = segment.level_after
        if abs(segment.level_after - self.reference) > self.p.zero_track_band_g and self._drift_onset_t is None:
            self._drift_onset_t = segment.t_start

    def _resolve(self) -> Segment:
        segment = self._pending
        if segment is None:
            raise RuntimeError(f"plate detector {self.index}: commit/reject without a pending segment")
        self._pending = None
        self._onset_t = None
        self._enter_quiet()
        return segment

    def remap(self, scale: float, offset: float) -> None:
        """Re-express every level after a tare or calibration: v -> scale * v + offset."""

        def convert(value: float) -> float:
            return scale * value + offset

        self.reference = convert(self.reference)
        self.level = convert(self.level)
        self.reference_var *= scale**2
        self.sigma = max(self.sigma * scale, self.p.noise_floor_g)
        if self.last_grams is not None:
            self.last_grams = convert(self.last_grams)
        for buffer in (self._filtered, self._raw):
            values = [convert(v) for v in buffer]
            buffer.clear()
            buffer.extend(values)
        self._raw3 = deque(((t, convert(v)) for t, v in self._raw3), maxlen=3)
        self._noise_buffer = [convert(v) for v in self._noise_buffer]

    def current_level(self) -> float | None:
        """Robust mean of the last window while the plate is quiet (no change since it settled)."""
        if self.state is not State.QUIET or len(self._raw) < self.p.window:
            return None
        return robust_mean(self._raw, self.sigma)

    @property
    def stable(self) -> bool:
        return self.state is State.QUIET

    @property
    def pending(self) -> Segment | None:
        return self._pending
