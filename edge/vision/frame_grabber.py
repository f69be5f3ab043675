"""The frame grabber thread: polls a frame source at the idle or active rate, keeps the look-back ring,
spots motion, detects drop-outs and reconnects with backoff. Knows sources only by their interface.

Frames may arrive still compressed (see edge.hw.frames.JpegFrame). Idle frames are decoded for the
motion check; active frames go into the ring as they are and are decoded only when the detector
takes one, when evidence() analyses one, or for the motion check, which runs at most `idle_fps` times
a second while active (there it only extends the active hold).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from edge.config.camera import CameraSection
from edge.errors import CameraError
from edge.vision.motion import MotionDetector
from edge.vision.ring import FrameRecord, FrameRing

if TYPE_CHECKING:
    from edge.hw.frames import FrameSource

log = logging.getLogger(__name__)

# Called on the grabber thread for each stored frame; `worth` = active or motion, i.e. worth detecting.
FrameCallback = Callable[[FrameRecord, bool], None]


@dataclasses.dataclass(frozen=True, slots=True)
class CameraStatus:
    """The camera's state and counters since start (part of the node's `stats.parts.vision`)."""

    camera_ok: bool
    camera_error: str | None  # why the camera is not ok (or "not started"); None while ok
    source: str  # the source's description, e.g. "frame directory /var/lib/frames"
    frames: int  # frames stored in the ring
    motion_events: int
    dropouts: int  # times the camera was declared lost
    reconnects: int
    unexpected_errors: int  # faults in the grabber thread itself (logged with traceback)
    bad_frames: int  # corrupt compressed frames skipped
    mode: Literal["idle", "active"]
    last_frame_t: float | None  # unix s of the newest stored frame

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


StatusCallback = Callable[[CameraStatus], None]


class FrameGrabber:
    """The camera thread: one per source. `status()` is safe from any thread."""

    def __init__(
        self,
        source: FrameSource,
        settings: CameraSection,
        ring: FrameRing | None = None,
        on_frame: FrameCallback | None = None,
        on_status: StatusCallback | None = None,
        on_wake: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.ring = ring if ring is not None else FrameRing.for_camera(settings)
        self.on_frame = on_frame
        self.on_status = on_status
        self.on_wake = on_wake  # run on the grabber thread at each wake(), before any poll
        self._next_poll = 0.0  # monotonic time of the next source poll
        self.motion = MotionDetector(settings.motion_pixel_delta, settings.motion_fraction)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._active_until = 0.0  # monotonic; full rate until then (activity or motion hold)
        self._motion_checked_at = float("-inf")  # monotonic
        self._externally_active = False
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {  # CameraStatus's fields, updated in place under _lock
            "camera_ok": False,
            "camera_error": "not started",
            "source": source.description,
            "frames": 0,
            "motion_events": 0,
            "dropouts": 0,
            "reconnects": 0,
            "unexpected_errors": 0,
            "bad_frames": 0,
            "mode": "idle",
            "last_frame_t": None,
        }

    # -- control -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="frame-grabber", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def set_active(self, active: bool) -> None:
        """Weighing says the shelf is (no longer) being handled: switch to the full rate at once."""
        with self._lock:
            self._externally_active = active
            if active:
                self._next_poll = 0.0
            else:
                self._active_until = max(self._active_until, time.monotonic() + self.settings.active_hold_s)
        self._wake.set()

    def wake(self) -> None:
        """Run `on_wake` on the grabber thread now (e.g. the detector took its frame and wants the next)."""
        self._wake.set()

    def is_active(self) -> bool:
        with self._lock:
            return self._externally_active or time.monotonic() < self._active_until

    def status(self) -> CameraStatus:
        with self._lock:
            return CameraStatus(**self._state)

    # -- thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.settings.retry_min_s
        while not self._stop.is_set():
            try:
                self.source.open()
            except CameraError as exc:
                self._set_state(camera_ok=False, camera_error=str(exc))
                log.warning("%s; retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.settings.retry_max_s)
                continue
            try:
                got_frames = self._poll_until_lost()
            except Exception as exc:  # the thread must survive anything; counted in status, logged with traceback
                log.exception("frame grabber: unexpected error; reopening the source")
                with self._lock:
                    self._state["unexpected_errors"] += 1
                self._set_state(camera_ok=False, camera_error=f"unexpected error: {exc!r}")
                got_frames = False
            finally:
                self.source.close()
            if self._stop.is_set():
                break
            with self._lock:
                self._state["reconnects"] += 1
            delay = self.settings.retry_min_s if got_frames else min(delay * 2, self.settings.retry_max_s)
            self._stop.wait(delay)

    def _poll_until_lost(self) -> bool:
        """Read frames until stop or drop-out. Returns whether any frame arrived."""
        last_frame_at = time.monotonic()
        got_frames = False
        self._next_poll = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            if self.on_wake is not None:
                self.on_wake()
            tick = time.monotonic()
            if tick < self._next_poll:  # woken early by wake(): only the hook was due
                self._wake.wait(self._next_poll - tick)
                continue
            active = self.is_active()
            self._next_poll = tick + 1.0 / (self.settings.active_fps if active else self.settings.idle_fps)
            try:
                frame = self.source.poll()
            except CameraError as exc:
                self._lost(str(exc))
                return got_frames
            now = time.monotonic()
            if frame is not None:
                got_frames = True
                last_frame_at = now
                self._handle(frame[0], frame[1], active, now)
            elif now - last_frame_at > self.settings.dropout_s:
                what = f"no frame for {now - last_frame_at:.1f}s" if got_frames else "opened but delivers no frames"
                why = self.source.why_silent()
                self._lost(f"{self.source.description}: {what}{f'; {why}' if why else ''}")
                return got_frames
            self._wake.wait(max(0.0, self._next_poll - time.monotonic()))
        return got_frames

    def _handle(self, t: float, image: Any, active: bool, now: float) -> None:
        try:
            if not active:
                image = image if isinstance(image, np.ndarray) else image.decode()  # idle: motion needs pixels
            record = self.ring.push(t, image)
            moved = False
            if not active or now - self._motion_checked_at >= 1.0 / self.settings.idle_fps:
                # While active, motion only extends the hold: idle_fps checks a second will do. Checked
                # before on_frame, so a frame decoded for it is not decoded again for the detector.
                moved = self._motion(record, now)
            if self.on_frame is not None:
                self.on_frame(record, active or moved)
        except CameraError as exc:  # a corrupt compressed frame: skip it, the next one will do
            log.debug("%s", exc)
            self._set_state("bad_frames")
            return
        mode = "active" if active or moved else "idle"
        self._set_state("frames", camera_ok=True, camera_error=None, last_frame_t=t, mode=mode)

    def _motion(self, record: FrameRecord, now: float) -> bool:
        self._motion_checked_at = now
        if not self.motion.update(record.image):
            return False
        with self._lock:
            self._active_until = now + self.settings.active_hold_s
            self._state["motion_events"] += 1
        return True

    def _lost(self, reason: str) -> None:
        log.warning("camera lost: %s; the node continues on weight alone", reason)
        self.motion.reset()
        self._set_state("dropouts", camera_ok=False, camera_error=reason)

    def _set_state(self, count: str | None = None, **values: Any) -> None:
        """Update the state (and add one to the `count` counter); runs once per frame, so it builds a
        CameraStatus for `on_status` only when camera_ok or mode changed."""
        with self._lock:
            state = self._state
            changed = any(state[k] != v for k, v in values.items() if k in ("camera_ok", "mode"))
            state.update(values)
            if count is not None:
                state[count] += 1
            status = CameraStatus(**state) if changed and self.on_status is not None else None
        if status is not None and self.on_status is not None:
            self.on_status(status)
