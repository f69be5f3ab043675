"""Live camera sources: a V4L2 device and a network stream (RTSP/HTTP)."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from edge.errors import CameraError
from edge.hw.frames import MJPG_FOURCCS, Frame, JpegFrame, PolledFrame, as_polled_image, decoded, fourcc_of

log = logging.getLogger(__name__)


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
        self._raw_checked = False  # the first raw frame after open() decides whether raw mode works

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
        delivered = fourcc_of(capture)
        if self.fourcc and delivered != self.fourcc.upper():
            log.warning("%s: asked for %s frames, the camera delivers %s", self.description, self.fourcc, delivered)
        self._raw_jpeg = delivered in MJPG_FOURCCS and bool(capture.set(cv2.CAP_PROP_CONVERT_RGB, 0))
        self._raw_checked = False
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
        if frame is None and not self._raw_checked:
            log.warning("%s: raw MJPEG frames not available here; OpenCV decodes every frame", self.description)
            self._capture.set(cv2.CAP_PROP_CONVERT_RGB, 1)
            self._raw_jpeg = False
            return None  # the next poll gets a converted frame
        self._raw_checked = True
        if frame is None:  # raw mode works: this packet is damaged; decoding it will say so (bad_frames)
            frame = JpegFrame(image.reshape(-1), self.description)
        return t, frame

    def why_silent(self) -> str | None:
        return None  # its errors say what went wrong

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


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

    def why_silent(self) -> str | None:
        return None  # its errors say what went wrong

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
