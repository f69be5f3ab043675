"""The rendered camera's two outputs: a frame directory written offline (next to a capture), and the
same directory filled live at the scenario's pace, for the daemon's `[camera] source = DIR`
(edge.hw.camera_files.FrameDirSource reads both).

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


class LiveFrames:
    """A thread writing each frame into `directory` when the wall clock reaches its time (the truth's
    times must be wall-clock unix seconds, as a live PtyShelf's are). Keeps the newest `keep` frames
    so that a demo running for hours does not fill the disk."""

    def __init__(self, camera: RenderedCamera, directory: Path, until: float, keep: int = 3000) -> None:
        _prepare(directory)
        self.camera = camera
        self.directory = directory
        self.until = until
        self.keep = keep
        self.frames_written = 0
        self.frames_late = 0  # rendering fell behind the clock: skipped, as a camera drops them
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-camera", daemon=True)
        self._written: deque[Path] = deque()

    def start(self) -> LiveFrames:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        try:
            now = time.time()
            for ms in self.camera.frame_times(now, self.until):
                wait = ms / 1000 - time.time()
                if wait > 0 and self._stop.wait(wait):
                    return
                if self._stop.is_set():
                    return
                if time.time() - ms / 1000 > 0.5:
                    self.frames_late += 1
                    continue
                self._written.append(write_frame(self.directory, ms, self.camera.jpeg(ms)))
                self.frames_written += 1
                while len(self._written) > self.keep:
                    self._written.popleft().unlink(missing_ok=True)
        except OSError as exc:
            self.error = f"{self.directory}: cannot write frames ({exc.strerror or exc})"
            log.error("simulated camera stopped: %s", self.error)
