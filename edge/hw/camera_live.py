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


# A network stream's bounds (OpenCV's own defaults are 30 s each). A server that accepts the connection but never
# answers fails open() after OPEN_TIMEOUT_S; a stream that then sends nothing for READ_TIMEOUT_S (the default
# [camera] dropout_s) ends, and poll() raises the CameraError the frame grabber's drop-out and reconnect handle.
OPEN_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 5.0
# poll() waits at most this long for a grab in progress (which holds the capture until the stream's next frame
# comes), then says "no new frame": a poll never waits on a stalled stream.
POLL_WAIT_S = 0.2
CLOSE_WAIT_S = 1.0  # close() waits this long for the grab thread; a grab still waiting ends by the read timeout
# Should OpenCV's read timeout not end a grab (a protocol whose reads ignore it), poll() says the stream is lost
# once it has sent nothing for READ_TIMEOUT_S + this.
READ_GRACE_S = 1.0


class StreamSource:
    """A network stream (rtsp://, http://). A grabber thread keeps up with the stream, because
    H.264 frames cannot be skipped undecoded and FFmpeg would otherwise hand out stale buffered
    frames; read() converts only the newest grabbed frame. Frame t = host time at grab.

    poll() never blocks for long (POLL_WAIT_S); a connected stream that sends nothing for `read_timeout_s`
    is lost (CameraError), and one whose server never answers fails open() after `open_timeout_s`."""

    def __init__(
        self, url: str, open_timeout_s: float = OPEN_TIMEOUT_S, read_timeout_s: float = READ_TIMEOUT_S
    ) -> None:
        self.url = url
        self.description = f"stream {url}"
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._stream: _Grabbing | None = None

    def open(self) -> None:
        import cv2

        self.close()
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self.read_timeout_s * 1000),
        ]
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise CameraError(
                f"{self.description}: cannot open (wrong URL, credentials or network, or no answer within "
                f"{self.open_timeout_s:g} s?)"
            )
        self._stream = _Grabbing(capture, self.description, self.read_timeout_s)

    def read(self) -> Frame | None:
        if self._stream is None:
            raise CameraError(f"{self.description}: stream ended or lost (not open)")
        return self._stream.take()

    def poll(self) -> PolledFrame | None:
        return self.read()

    def why_silent(self) -> str | None:
        return None  # its errors say what went wrong

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()


class _Grabbing:
    """One opened stream: its capture, which the grab thread owns and releases when it ends (so closing never
    waits on a grab stuck on a silent stream), and the time of the newest grabbed, not yet taken frame."""

    def __init__(self, capture: Any, description: str, read_timeout_s: float) -> None:
        self._capture = capture
        self._description = description
        self._read_timeout_s = read_timeout_s
        self._lock = threading.Lock()  # grab() and retrieve() never overlap (a capture is not thread-safe)
        self._stopping = threading.Event()
        self._grabbed_at: float | None = None
        self._last_grab = time.monotonic()  # when the last grab() returned a frame (or the stream opened)
        self._ended: str | None = None  # why, once the stream has ended
        self._thread = threading.Thread(target=self._grab_forever, name="camera-stream-grab", daemon=True)
        self._thread.start()

    def take(self) -> Frame | None:
        if not self._lock.acquire(timeout=POLL_WAIT_S):  # a grab waits for the stream's next frame
            silent = time.monotonic() - self._last_grab
            if silent > self._read_timeout_s + READ_GRACE_S:  # OpenCV's read timeout did not end that grab
                raise CameraError(f"{self._description}: stream ended or lost (sent nothing for {silent:.1f} s)")
            return None
        try:
            if self._ended is not None:
                raise CameraError(f"{self._description}: stream ended or lost{self._ended}")
            if self._grabbed_at is None:
                return None
            t, self._grabbed_at = self._grabbed_at, None
            ok, image = self._capture.retrieve()
        finally:
            self._lock.release()
        if not ok:
            raise CameraError(f"{self._description}: frame could not be decoded")
        return t, image

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(CLOSE_WAIT_S)

    def _grab_forever(self) -> None:
        try:
            while not self._stopping.is_set():
                with self._lock:
                    if not self._capture.grab():
                        silent = time.monotonic() - self._last_grab
                        late = silent >= 0.9 * self._read_timeout_s  # not a stream that closed
                        self._ended = f" (sent nothing for {silent:.1f} s)" if late else ""
                        return
                    self._last_grab = time.monotonic()
                    self._grabbed_at = time.time()
                time.sleep(0)  # let take() have the lock between grabs
        finally:
            with self._lock:
                if self._ended is None:
                    self._ended = " (closed)" if self._stopping.is_set() else " (the grab failed)"
                self._capture.release()
