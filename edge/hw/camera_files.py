"""Recorded camera sources: a directory of JPEG frames named by their unix time in ms, and a video file."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import CameraError
from edge.hw.frames import (
    MJPG_FOURCCS,
    Frame,
    Image,
    JpegFrame,
    PolledFrame,
    as_polled_image,
    decoded,
    fourcc_of,
)
from edge.hw.jpeg import JPEG_EOI, JPEG_SOI

FRAME_NAME = re.compile(r"^(\d{10,16})\.(jpe?g|png)$", re.IGNORECASE)
MAX_IGNORED_KEPT = 100  # ignored file names remembered for why_silent()
MAX_IGNORED_SHOWN = 3
log = logging.getLogger(__name__)


class FrameDirSource:
    """JPEG frames named by unix time in ms, replayed at their recorded pace (speed 1.0 = real time).

    New files appearing later are picked up, so a directory written by another process works as a
    live camera. Frames that are overdue when read are skipped without being decoded. A frame that appears
    after the first scan is due by its recorded pace or, at the latest, once the wall clock reaches its
    name: a live writer's frames are never held behind the backlog found at open (the pace anchors on its
    oldest frame, so a daemon started 5 s after the writer would otherwise lag it by 5 s for good).
    """

    def __init__(self, directory: Path, speed: float = 1.0) -> None:
        self.directory = directory
        self.description = f"frame directory {directory}"
        self.speed = speed
        self._pending: list[tuple[float, str]] = []
        self._last_t = float("-inf")
        self._dir_mtime = -1
        self._anchor: tuple[float, float] | None = None  # (first frame t, monotonic time it was shown)
        self._backlog_t = float("inf")  # the newest frame at the first scan; later ones are a live writer's
        self._ignored: dict[str, str] = {}  # frame file name -> why it was skipped (bounded, newest last)
        self._misnamed: list[str] = []  # at the last scan: a few names that are not <unix ms>.jpg
        self._misnamed_count = 0
        self._files_seen = 0  # entries in the directory at the last scan

    def open(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise CameraError(f"{self.description}: is a file, not a directory; fix [camera] source")
        if not self.directory.is_dir():
            raise CameraError(f"{self.description}: not found; create it or fix [camera] source")
        self._dir_mtime = -1
        self._anchor = None
        self._backlog_t = float("inf")
        self._pending = []

    def why_silent(self) -> str | None:
        """Why no frame may have come, for the drop-out message: the files ignored and why (a few of
        each kind, those still there), an empty directory, or no frame newer than the last one shown."""
        for name in [name for name in self._ignored if not (self.directory / name).exists()]:
            del self._ignored[name]  # gone (a writer's temporary file, or cleaned up): no longer a cause
        gone = [name for name in self._misnamed if not (self.directory / name).exists()]
        self._misnamed = [name for name in self._misnamed if name not in gone]
        self._misnamed_count -= len(gone)
        problems = [f"{name}: {reason}" for name, reason in list(self._ignored.items())[-MAX_IGNORED_SHOWN:]]
        if len(self._ignored) > MAX_IGNORED_SHOWN:
            problems.append(f"{len(self._ignored) - MAX_IGNORED_SHOWN} more not complete images")
        if self._misnamed_count:
            more = self._misnamed_count - len(self._misnamed)
            problems.append(f"{', '.join(self._misnamed)}{f' and {more} more' if more else ''}: not named "
                            "<unix ms>.jpg")
        if problems:
            return f"files ignored: {'; '.join(problems)}; frames must be complete JPEGs (or PNGs) named <unix ms>.jpg"
        if self._files_seen == 0:
            return "the directory is empty; frames must be complete JPEGs (or PNGs) named <unix ms>.jpg"
        if not self._pending and self._last_t > float("-inf"):
            return f"no frame newer than the last one shown ({round(self._last_t * 1000)}.jpg)"
        return None

    def read(self) -> Frame | None:
        return decoded(self.poll())

    def poll(self) -> PolledFrame | None:
        self._rescan_if_changed()
        if not self._pending:
            return None
        now = time.monotonic()  # pacing: a step of the wall clock must neither stall nor flush the frames
        if self._anchor is None:
            self._anchor, self._backlog_t = (self._pending[0][0], now), self._pending[-1][0]
        first_t, shown_at = self._anchor
        elapsed = (now - shown_at) * self.speed if self.speed > 0 else float("inf")
        wall = time.time()
        due = [i for i, (t, _) in enumerate(self._pending)
               if t - first_t <= elapsed or self._backlog_t < t <= wall]
        if not due:
            return None
        t, name = self._pending[due[-1]]
        self._pending = self._pending[due[-1] + 1 :]  # the earlier ones are overdue: skipped
        self._last_t = t
        path = self.directory / name
        if path.suffix.lower() != ".png":
            try:
                data = np.fromfile(path, np.uint8)
            except OSError as exc:  # e.g. removed meanwhile
                return self._ignore(name, f"unreadable ({exc.strerror or exc})")
            if data[:2].tobytes() != JPEG_SOI:
                return self._ignore(name, f"not a JPEG ({data.size} bytes, no JPEG start marker)")
            if JPEG_EOI not in data[-32:].tobytes():
                return self._ignore(name, f"not a complete JPEG ({data.size} bytes, no end marker)")
            return t, JpegFrame(data, f"{self.description}: {name}")
        import cv2

        image: Image | None = cv2.imread(str(path), cv2.IMREAD_COLOR)  # type: ignore[assignment]
        if image is None:
            return self._ignore(name, "not a readable PNG")
        return t, image

    def _ignore(self, name: str, reason: str) -> PolledFrame | None:
        """Remember (bounded) why a frame file was skipped, for why_silent(); None: the next frame will do."""
        log.debug("%s: %s %s; skipped", self.description, name, reason)
        self._ignored[name] = reason
        while len(self._ignored) > MAX_IGNORED_KEPT:
            del self._ignored[next(iter(self._ignored))]
        return None

    def close(self) -> None:
        self._pending = []

    def _rescan_if_changed(self) -> None:
        try:
            mtime = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            raise CameraError(f"{self.description}: directory vanished") from None
        except OSError as exc:
            raise CameraError(f"{self.description}: cannot be read ({exc.strerror or exc})") from None
        if mtime == self._dir_mtime:
            return
        self._dir_mtime = mtime
        try:
            entries = list(os.scandir(self.directory))
        except OSError as exc:  # replaced by a file, permissions changed, ...
            raise CameraError(f"{self.description}: cannot be listed ({exc.strerror or exc})") from None
        found = []
        self._files_seen, self._misnamed, self._misnamed_count = 0, [], 0
        for entry in entries:
            self._files_seen += 1
            match = FRAME_NAME.match(entry.name)
            if match is None:
                if not entry.name.startswith("."):  # hidden files: a writer's temporaries
                    self._misnamed_count += 1
                    if len(self._misnamed) < MAX_IGNORED_SHOWN:
                        self._misnamed.append(entry.name)
            elif int(match.group(1)) / 1000.0 > self._last_t:
                found.append((int(match.group(1)) / 1000.0, entry.name))
        known = {name for _, name in self._pending}
        self._pending = sorted(self._pending + [item for item in found if item[1] not in known])


class VideoFileSource:
    """A video file played in real time from when it was opened; frame t = open time + index / fps.

    With `loop`, the end wraps to the start (demos, benchmarks); otherwise the end is a drop-out.
    MJPG files are read as raw packets (no decode in grab), each frame handed out as a JpegFrame.
    """

    def __init__(self, path: Path, loop: bool = False) -> None:
        self.path = path
        self.loop = loop
        self.description = f"video file {path}"
        self._capture: Any = None
        self._fps = 30.0
        self._frames = 0
        self._start = 0.0
        self._next_index = 0
        self._jpeg_packets = False

    def open(self) -> None:
        import cv2

        if not self.path.is_file():
            raise CameraError(f"{self.description}: not found; fix [camera] source")
        if self.path.stat().st_size == 0:
            raise CameraError(f"{self.description}: empty file; fix [camera] source")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise CameraError(f"{self.description}: OpenCV cannot open it (not a video, corrupt, or unsupported codec)")
        self._fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        self._frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        raw = self._raw_jpeg_capture(capture)
        if raw is not None:
            capture.release()
            capture = raw
        self._capture = capture
        self._jpeg_packets = raw is not None
        self._start = time.monotonic()  # paces the frames; their stamps are wall time when delivered (poll)
        self._next_index = 0

    def _raw_jpeg_capture(self, capture: Any) -> Any | None:
        """For an MJPG file, a capture of the same file giving raw packets (grab() then decodes nothing),
        if the FFmpeg backend offers it and the first packet really is a JPEG; else None."""
        import cv2

        if fourcc_of(capture) not in MJPG_FOURCCS:
            return None
        raw = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
        ok, packet = raw.read() if raw.isOpened() else (False, None)
        if ok and packet is not None and isinstance(as_polled_image(packet, self.description), JpegFrame):
            raw.set(cv2.CAP_PROP_POS_FRAMES, 0)
            return raw
        raw.release()
        return None

    def read(self) -> Frame | None:
        return decoded(self.poll())

    def poll(self) -> PolledFrame | None:
        import cv2

        if self._capture is None:
            raise CameraError(f"{self.description}: not open")
        due = int((time.monotonic() - self._start) * self._fps)
        if due < self._next_index:
            return None
        if self._frames and due >= self._frames:
            if not self.loop:
                raise CameraError(f"{self.description}: stream ended")
            wraps = due // self._frames
            self._start += wraps * self._frames / self._fps
            due -= wraps * self._frames
            self._next_index = -1  # wrapped: seek back
        if self._next_index < 0 and self._jpeg_packets:
            # Raw packets: rewind to the start and skip forward (~5 us a packet). FFmpeg's frame-accurate
            # seek in raw mode was seen to land one frame off, so that a seek near the end reads as the end.
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._next_index = 0
        if (due - self._next_index > 2 and not self._jpeg_packets) or self._next_index < 0:
            # wrapped, or far behind (idle rate) on a decoding backend: seek rather than decode them all
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, due)
        else:
            for _ in range(due - self._next_index):
                self._capture.grab()
        ok, image = self._capture.read()
        if not ok and self.loop:
            # The container promised more frames than it holds: that is the end, so wrap now.
            self._frames = due
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            due, self._start = 0, time.monotonic()
            ok, image = self._capture.read()
        if not ok:
            raise CameraError(f"{self.description}: stream ended")
        self._next_index = due + 1
        # its due time on the wall clock (the weight events' clock), whatever steps that clock took meanwhile
        t = time.time() - (time.monotonic() - (self._start + due / self._fps))
        if self._jpeg_packets:
            return t, JpegFrame(image.reshape(-1), f"{self.description} frame {due}")
        return t, image

    def why_silent(self) -> str | None:
        return None  # its errors say what went wrong

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
