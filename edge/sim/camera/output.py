"""The rendered camera's two outputs: a frame directory written offline (next to a capture), and the
same directory filled live at the scenario's pace, for the daemon's `[camera] source = DIR`
(edge.hw.camera_files.FrameDirSource reads both). `LivePlayer` is the live pace itself, which the
MJPEG stream (edge.sim.camera.mjpeg) shares.

Frames are `<unix ms>.jpg`. Each is written as a hidden temporary file and renamed into place, so a
reader never sees half a frame (FrameDirSource ignores hidden files).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from edge.atomic_file import replace_atomically
from edge.errors import CameraError
from edge.sim.camera.renderer import RenderedCamera

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FramesWritten:
    directory: Path
    frames: int
    bytes: int
    first_ms: int | None
    last_ms: int | None


def write_frame(directory: Path, ms: int, data: bytes) -> Path:
    path = directory / f"{ms}.jpg"
    replace_atomically(path, data, durable=False)  # a hidden temporary the frame reader skips; no fsync per frame
    return path


def write_frames(camera: RenderedCamera, directory: Path, t0: float, t1: float) -> FramesWritten:
    """Every frame the camera delivers in [t0, t1] (truth time, unix s for a capture) into `directory`."""
    _prepare(directory)
    count = size = 0
    first = last = None
    try:
        for ms, data in camera.frames(t0, t1):
            write_frame(directory, ms, data)
            count, size, last = count + 1, size + len(data), ms
            first = ms if first is None else first
    except OSError as exc:
        raise CameraError(
            f"{directory}: cannot write frames ({exc.strerror or exc}); free space or pick another --frames directory"
        ) from None
    return FramesWritten(directory, count, size, first, last)


def _prepare(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise CameraError(f"{directory}: is a file; --frames needs a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CameraError(f"{directory}: cannot create the frame directory ({exc.strerror or exc})") from None


class LivePlayer:
    """A thread handing each frame of `camera` to `deliver(ms, jpeg)` when the wall clock reaches its time
    (the truth's times must be wall-clock unix seconds, as a live PtyShelf's are), until `until`. A frame
    the renderer could not make in time (more than LATE_S behind the clock) is skipped, as a camera drops
    it. The live outputs (LiveFrames, a directory; edge.sim.camera.mjpeg, a stream) differ only in
    `deliver`, so both play the same frames."""

    LATE_S = 0.5

    def __init__(self, camera: RenderedCamera, until: float, name: str = "sim-camera") -> None:
        self.camera = camera
        self.until = until
        self.frames_played = 0
        self.frames_late = 0  # rendering fell behind the clock: skipped, as a camera drops them
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=5.0)

    def playing(self) -> bool:
        """False once every frame up to `until` has been played (or stop() / an error ended it)."""
        return self._thread.is_alive()

    def deliver(self, ms: int, data: bytes) -> None:
        raise NotImplementedError

    def describe(self, exc: OSError) -> str:
        return f"cannot deliver frames ({exc.strerror or exc})"

    def ended(self) -> None:
        """Called on the player's thread when it stops, for whatever reason."""

    def _run(self) -> None:
        try:
            for ms in self.camera.frame_times(time.time(), self.until):
                wait = ms / 1000 - time.time()
                if wait > 0 and self._stop.wait(wait):
                    return
                if self._stop.is_set():
                    return
                if time.time() - ms / 1000 > self.LATE_S:
                    self.frames_late += 1
                    continue
                self.deliver(ms, self.camera.jpeg(ms))
                self.frames_played += 1
        except OSError as exc:
            self.error = self.describe(exc)
            log.error("simulated camera stopped: %s", self.error)
        finally:
            self.ended()


class LiveFrames(LivePlayer):
    """The live frame directory: each frame written into `directory` at its time. Keeps the newest `keep`
    frames so that a demo running for hours does not fill the disk."""

    def __init__(self, camera: RenderedCamera, directory: Path, until: float, keep: int = 3000) -> None:
        _prepare(directory)
        super().__init__(camera, until)
        self.directory = directory
        self.keep = keep
        self._written: deque[Path] = deque()

    @property
    def frames_written(self) -> int:
        return self.frames_played

    def deliver(self, ms: int, data: bytes) -> None:
        self._written.append(write_frame(self.directory, ms, data))
        while len(self._written) > self.keep:
            self._written.popleft().unlink(missing_ok=True)

    def describe(self, exc: OSError) -> str:
        return f"{self.directory}: cannot write frames ({exc.strerror or exc})"
