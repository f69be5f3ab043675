"""Record the configured camera's frames beside a capture (`shelf-node serial record --frames DIR`).

A thread polls the `[camera]` source at `active_fps` (a recording cannot know when the shelf will be
handled) and writes each frame as `DIR/<unix ms>.jpg`, the source's own JPEG when it hands one out,
else encoded at `[camera] jpeg_quality`. Frame times are the source's (host time at grab for a live
camera: the clock of the capture's lines), so `replay --frames DIR` finds them by timestamp.

Bounded: it stops writing (and says so) at `max_frames` or `max_bytes`, keeping the start of the session;
`replay` then treats the time after the last frame as the camera being lost. A source that fails is
reopened after `retry_min_s`; the gap shows in the frames as it would have on the node.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge.atomic_file import replace_atomically
from edge.config.camera import CameraSection
from edge.errors import CameraError

if TYPE_CHECKING:
    from edge.hw.frames import FrameSource, Image, JpegFrame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FramesRecorded:
    directory: Path
    frames: int
    bytes: int
    full: str | None  # the bound that stopped the recording, None if it ran to the end
    errors: int  # times the source failed (each reopened)
    last_error: str | None

    def to_json(self) -> dict[str, object]:
        return {"directory": str(self.directory), "frames": self.frames, "bytes": self.bytes, "full": self.full,
                "errors": self.errors, "last_error": self.last_error}


class FrameRecorder:
    def __init__(self, source: FrameSource, settings: CameraSection, directory: Path, max_frames: int,
                 max_bytes: int) -> None:
        if directory.exists() and not directory.is_dir():
            raise CameraError(f"{directory}: is a file; --frames needs a directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CameraError(f"{directory}: cannot create the frame directory ({exc.strerror or exc})") from None
        if any(directory.glob("*.jpg")):
            raise CameraError(f"{directory}: already holds frames; give an empty directory, so that replay does "
                              "not mix two sessions")
        self.source = source
        self.settings = settings
        self.directory = directory
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames = self._bytes = self._errors = 0
        self._full: str | None = None
        self._last_error: str | None = None
        self._last_ms = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-recorder", daemon=True)

    def start(self) -> FrameRecorder:
        self._thread.start()
        return self

    def stop(self) -> FramesRecorded:
        self._stop.set()
        self._thread.join(10.0)
        return self.status()

    def status(self) -> FramesRecorded:
        return FramesRecorded(self.directory, self._frames, self._bytes, self._full, self._errors, self._last_error)

    def _run(self) -> None:
        period = 1.0 / self.settings.active_fps
        while not self._stop.is_set() and self._full is None:
            try:
                self.source.open()
                try:
                    self._poll(period)
                finally:
                    self.source.close()
            except CameraError as exc:
                self._errors += 1
                self._last_error = str(exc)
                log.warning("camera: %s; retrying in %.1fs", exc, self.settings.retry_min_s)
                self._stop.wait(self.settings.retry_min_s)
            except OSError as exc:  # the frame directory: disk full, removed
                self._last_error = f"{self.directory}: cannot write frames ({exc.strerror or exc})"
                self._full = "write error"
                log.error("frame recording stopped: %s", self._last_error)

    def _poll(self, period: float) -> None:
        next_poll = time.monotonic()
        while not self._stop.is_set() and self._full is None:
            frame = self.source.poll()
            if frame is not None:
                self._write(*frame)
            next_poll += period
            self._stop.wait(max(0.0, next_poll - time.monotonic()))

    def _write(self, t: float, image: Image | JpegFrame) -> None:
        from edge.hw.draw import encode_jpeg
        from edge.hw.frames import JpegFrame

        ms = round(t * 1000)
        if ms <= self._last_ms:  # two frames in one millisecond: the names would clash; keep the first
            return
        data = image.data.tobytes() if isinstance(image, JpegFrame) else encode_jpeg(image, self.settings.jpeg_quality)
        if self._frames + 1 > self.max_frames:
            self._full = f"max {self.max_frames} frames"
        elif self._bytes + len(data) > self.max_bytes:
            self._full = f"max {self.max_bytes} bytes"
        if self._full is not None:
            log.warning("frame recording stopped at %s (%d frames kept)", self._full, self._frames)
            return
        replace_atomically(self.directory / f"{ms}.jpg", data, durable=False)  # readers skip the hidden temporary
        self._frames += 1
        self._bytes += len(data)
        self._last_ms = ms
