"""Camera sources behind one small interface; `open_source(spec)` picks the backend from the spec.

A source is polled: `poll()` returns the newest frame due now (older ones are skipped without
decoding where the backend allows), None when nothing new has arrived yet, and raises CameraError
when the source is gone or has ended. JPEG frame directories and MJPG video files hand out frames
still compressed (`JpegFrame`), decoded only if something looks at them; `read()` is `poll()` with
the image decoded. The capture thread (edge.vision.capture) owns rate control, drop-out detection
and reconnects.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError
from edge.hw.jpeg import decode_jpeg

if TYPE_CHECKING:
    from edge.config.camera import CameraSection

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Frame = tuple[float, Image]  # (unix time, BGR image)
JPEG_SOI, JPEG_EOI = b"\xff\xd8", b"\xff\xd9"
MJPG_FOURCCS = {"MJPG", "AVI1", "JPEG", "MJPA"}
FRAME_NAME = re.compile(r"^(\d{10,16})\.(jpe?g|png)$", re.IGNORECASE)
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".mjpeg", ".mjpg", ".webm"}


class JpegFrame:
    """One frame still JPEG-compressed; `decode()` gives the BGR image (a 640x480 decode costs ~0.6 ms),
    written into `into` when that buffer has the frame's shape."""

    __slots__ = ("data", "origin")

    def __init__(self, data: Image, origin: str) -> None:
        self.data = data
        self.origin = origin

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    def decode(self, into: Image | None = None) -> Image:
        return decode_jpeg(self.data, self.origin, into)


PolledFrame = tuple[float, Image | JpegFrame]


class FrameSource(Protocol):
    description: str

    def open(self) -> None: ...

    def poll(self) -> PolledFrame | None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


def decoded(frame: PolledFrame | None) -> Frame | None:
    if frame is None or isinstance(frame[1], np.ndarray):
        return frame  # type: ignore[return-value]
    return frame[0], frame[1].decode()


def limit_opencv_threads() -> None:
    """One OpenCV thread: frame-sized resizes gain little from OpenCV's own pool, whose spinning
    workers would take cores from the interpreter's threads (XNNPACK)."""
    import cv2

    cv2.setNumThreads(1)


def open_source(
    spec: str,
    width: int | None = None,
    height: int | None = None,
    loop_file: bool = False,
    fourcc: str | None = None,
) -> FrameSource:
    """Choose the backend: directory of <unix ms>.jpg, video file, URL, or V4L2 device (index or path)."""
    path = Path(spec)
    if "://" in spec:
        return StreamSource(spec)
    if spec.isdigit() or spec.startswith("/dev/"):
        return LiveSource(spec, width, height, fourcc)
    if path.is_dir():
        return FrameDirSource(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path, loop=loop_file)
    raise CameraError(
        f"camera source {spec!r}: not a V4L2 index or /dev path, URL, existing frame directory or video file "
        f"({', '.join(sorted(VIDEO_SUFFIXES))}); fix [camera] source"
    )


def open_camera(settings: CameraSection) -> FrameSource:
    """The source a [camera] section describes."""
    return open_source(settings.source, settings.width, settings.height, settings.loop_file, settings.fourcc)


class FrameDirSource:
    """JPEG frames named by unix time in ms, replayed at their recorded pace (speed 1.0 = real time).

    New files appearing later are picked up, so a directory written by another process works as a
    live camera. Frames that are overdue when read are skipped without being decoded.
    """

    def __init__(self, directory: Path, speed: float = 1.0) -> None:
        self.directory = directory
        self.description = f"frame directory {directory}"
        self.speed = speed
        self._pending: list[tuple[float, str]] = []
        self._last_t = float("-inf")
        self._dir_mtime = -1
        self._anchor: tuple[float, float] | None = None  # (first frame t, wall time it was shown)

    def open(self) -> None:
        if not self.directory.is_dir():
            raise CameraError(f"{self.description}: not found; create it or fix [camera] source")
        self._dir_mtime = -1
        self._anchor = None
        self._pending = []

    def read(self) -> Frame | None:
        return decoded(self.poll())

    def poll(self) -> PolledFrame | None:
        self._rescan_if_changed()
        if not self._pending:
            return None
        now = time.time()
        if self._anchor is None:
            self._anchor = (self._pending[0][0], now)
        first_t, shown_at = self._anchor
        elapsed = (now - shown_at) * self.speed if self.speed > 0 else float("inf")
        due = [item for item in self._pending if item[0] - first_t <= elapsed]
        if not due:
            return None
        t, name = due[-1]
        self._pending = self._pending[len(due) :]
        self._last_t = t
        path = self.directory / name
        if path.suffix.lower() != ".png":
            try:
                data = np.fromfile(path, np.uint8)
            except OSError:
                return None  # removed meanwhile: skip it
            tail = data[-32:].tobytes()
            if data[:2].tobytes() != JPEG_SOI or JPEG_EOI not in tail:
                return None  # half-written or not a JPEG: skip it
            return t, JpegFrame(data, f"{self.description}: {name}")
        import cv2

        image: Image | None = cv2.imread(str(path), cv2.IMREAD_COLOR)  # type: ignore[assignment]
        return None if image is None else (t, image)  # None: unreadable or half-written file, skip it

    def close(self) -> None:
        self._pending = []

    def _rescan_if_changed(self) -> None:
        try:
            mtime = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            raise CameraError(f"{self.description}: directory vanished") from None
        if mtime == self._dir_mtime:
            return
        self._dir_mtime = mtime
        found = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                match = FRAME_NAME.match(entry.name)
                if match and int(match.group(1)) / 1000.0 > self._last_t:
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
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise CameraError(f"{self.description}: OpenCV cannot open it (unsupported codec?)")
        self._fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        self._frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        raw = self._raw_jpeg_capture(capture)
        if raw is not None:
            capture.release()
            capture = raw
        self._capture = capture
        self._jpeg_packets = raw is not None
        self._start = time.time()
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
        due = int((time.time() - self._start) * self._fps)
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
            due, self._start = 0, time.time()
            ok, image = self._capture.read()
        if not ok:
            raise CameraError(f"{self.description}: stream ended")
        self._next_index = due + 1
        t = self._start + due / self._fps
        if self._jpeg_packets:
            return t, JpegFrame(image.reshape(-1), f"{self.description} frame {due}")
        return t, image

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class LiveSource:
    """A V4L2 device (index or path); frame t = host time at grab. The driver keeps a 1-frame buffer,
    so polling at the idle rate still returns a fresh frame.

    When the camera delivers MJPG (asked for with `fourcc="MJPG"`, or its default), OpenCV is told not
    to convert (CAP_PROP_CONVERT_RGB = 0) and each frame comes out as the camera's JPEG, handed on as a
    JpegFrame, so frames nobody looks at are never decoded. If what comes back is not a JPEG (an
    OpenCV build or driver that ignores the setting), conversion is switched back on for good.
    """

    def __init__(
        self, spec: str, width: int | None = None, height: int | None = None, fourcc: str | None = None
    ) -> None:
        self.spec = spec
        self.description = f"camera {spec}"
        self.width = width
        self.height = height
        self.fourcc = fourcc
        self._capture: Any = None
        self._raw_jpeg = False

    def open(self) -> None:
        import cv2

        device: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        if isinstance(device, str) and not os.path.exists(device):
            raise CameraError(f"{self.description}: no such device (unplugged?); check ls /dev/v4l/by-id/")
        capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"{self.description}: cannot open (busy, unplugged or wrong URL)")
        if self.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
        if self.width and self.height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a stale queue, at a low poll rate
        self._raw_jpeg = fourcc_of(capture) in MJPG_FOURCCS and bool(capture.set(cv2.CAP_PROP_CONVERT_RGB, 0))
        self._capture = capture

    def read(self) -> Frame | None:
        return decoded(self.poll())

    def poll(self) -> PolledFrame | None:
        import cv2

        if self._capture is None:
            raise CameraError(f"{self.description}: not open")
        if not self._capture.grab():
            raise CameraError(f"{self.description}: stopped delivering frames (unplugged or stream lost)")
        t = time.time()
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            raise CameraError(f"{self.description}: frame could not be decoded")
        if not self._raw_jpeg:
            return t, image
        frame = as_polled_image(image, self.description)
        if frame is None:
            log.warning("%s: raw MJPEG frames not available here; OpenCV decodes every frame", self.description)
            self._capture.set(cv2.CAP_PROP_CONVERT_RGB, 1)
            self._raw_jpeg = False
            return None  # the next poll gets a converted frame
        return t, frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def fourcc_of(capture: Any) -> str:
    import cv2

    return int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode("latin-1").upper()


def as_polled_image(image: npt.NDArray[Any], origin: str) -> Image | JpegFrame | None:
    """What a capture in raw mode handed back: a decoded BGR image as it is, one JPEG packet (a row or
    a vector of bytes starting with the JPEG start marker) as a JpegFrame, or None for anything else."""
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.dtype == np.uint8 and (image.ndim == 1 or image.shape[0] == 1):
        packet = image.reshape(-1)
        if packet[:2].tobytes() == JPEG_SOI:
            return JpegFrame(packet, origin)
    return None


class StreamSource:
    """A network stream (rtsp://, http://). A grabber thread keeps up with the stream, because
    H.264 frames cannot be skipped undecoded and FFmpeg would otherwise hand out stale buffered
    frames; read() converts only the newest grabbed frame. Frame t = host time at grab."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.description = f"stream {url}"
        self._capture: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._grabbed_at: float | None = None  # newest grabbed, not yet returned frame
        self._ended = False

    def open(self) -> None:
        import cv2

        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"{self.description}: cannot open (wrong URL, credentials or network?)")
        self._capture = capture
        self._ended = False
        self._grabbed_at = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._grab_forever, name="camera-stream-grab", daemon=True)
        self._thread.start()

    def read(self) -> Frame | None:
        with self._lock:
            if self._ended or self._capture is None:
                raise CameraError(f"{self.description}: stream ended or lost")
            if self._grabbed_at is None:
                return None
            t, self._grabbed_at = self._grabbed_at, None
            ok, image = self._capture.retrieve()
        if not ok:
            raise CameraError(f"{self.description}: frame could not be decoded")
        return t, image

    def poll(self) -> PolledFrame | None:
        return self.read()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None

    def _grab_forever(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ok = self._capture is not None and self._capture.grab()
                if not ok:
                    self._ended = True
                    return
                self._grabbed_at = time.time()
            time.sleep(0)  # let read() take the lock between grabs
