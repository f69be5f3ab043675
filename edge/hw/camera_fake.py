"""A fake camera in the manner of gpiozero's mock pins: a FrameSource that behaves like a real one (frames
at a pace, timestamped by the camera's clock, skipped when nobody polls, lost when unplugged) and that a
test or a demo drives by hand:

    camera = FakeCamera(fps=20)              # a grey shelf with a block sliding across it
    camera.show(image)                       # from now on every frame is this picture
    camera.unplug()                          # poll() and open() raise CameraError, as a pulled USB cable
    camera.plug_in()                         # open() works again; the grabber reconnects
    camera.freeze()                          # opened but silent: the grabber's drop-out by silence
    camera.thaw()

Like a V4L2 camera it hands out only the newest frame due when polled (frames nobody polled are gone),
and like a frame directory its frame times come from its own clock (`clock`, wall time by default, so
the ring's windows line up with the weigher's). `jpeg=True` hands out JpegFrames (the compressed path
of frame directories and MJPG cameras); the default hands out decoded BGR images (YUYV cameras).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from edge.errors import CameraError
from edge.hw.frames import Frame, Image, JpegFrame, PolledFrame, decoded

Scene = Callable[[int, float], Image]  # (frame index, frame time) -> BGR image


def sliding_block(width: int, height: int) -> Scene:
    """The default scene: a textured grey shelf with a bright block moving one step per frame (motion)."""

    def scene(index: int, t: float) -> Image:
        image = np.full((height, width, 3), 90, np.uint8)
        image[height // 6 : height // 3, width // 8 : width // 3] = (30, 160, 220)
        block = max(width // 4, 1)
        x = (index * 3) % max(width - block, 1)
        image[height // 2 : height - height // 8, x : x + block] = 255
        return image

    return scene


class FakeCamera:
    """A FrameSource for tests and demos; thread-safe (the grabber polls while the test drives it)."""

    def __init__(self, width: int = 160, height: int = 120, fps: float = 30.0, scene: Scene | None = None,
                 jpeg: bool = False, clock: Callable[[], float] = time.time,
                 description: str = "fake camera") -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.width, self.height, self.fps = width, height, fps
        self.scene = scene or sliding_block(width, height)
        self.jpeg = jpeg
        self.clock = clock
        self.description = description
        self._lock = threading.Lock()
        self._image: Image | None = None  # show(): every frame is this picture
        self._lost: str | None = None  # unplugged: why
        self._frozen = False
        self._opened = False
        self._epoch = 0.0  # camera clock at open: frame k is due at epoch + k / fps
        self._last_index = -1
        self.opens = 0  # times open() succeeded
        self.delivered = 0  # frames handed out
        self.skipped = 0  # frames due that nobody polled in time (gone, as on a real camera)

    # -- the test's side -----------------------------------------------------------------------------
    def show(self, image: Image | None) -> None:
        """Every frame from now on is `image` (BGR, any size); None goes back to the scene."""
        with self._lock:
            self._image = None if image is None else np.ascontiguousarray(image, np.uint8)

    def unplug(self, reason: str = "device unplugged") -> None:
        with self._lock:
            self._lost = reason

    def plug_in(self) -> None:
        with self._lock:
            self._lost = None

    def freeze(self) -> None:
        """Stay open but deliver nothing (a camera that hangs), until thaw()."""
        with self._lock:
            self._frozen = True

    def thaw(self) -> None:
        with self._lock:
            self._frozen = False

    @property
    def is_open(self) -> bool:
        return self._opened

    # -- FrameSource -------------------------------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            if self._lost is not None:
                raise CameraError(f"{self.description}: cannot open: {self._lost}; plug the camera back in")
            self._opened = True
            self._epoch = self.clock()
            self._last_index = -1
            self.opens += 1

    def poll(self) -> PolledFrame | None:
        with self._lock:
            if self._lost is not None:
                self._opened = False
                raise CameraError(f"{self.description}: {self._lost}")
            if not self._opened:
                raise CameraError(f"{self.description}: polled before open()")
            if self._frozen:
                return None
            index = int((self.clock() - self._epoch) * self.fps + 1e-6)  # a frame due exactly now is due
            if index <= self._last_index:
                return None
            self.skipped += index - self._last_index - 1
            self._last_index = index
            self.delivered += 1
            t = self._epoch + index / self.fps
            image = self._image.copy() if self._image is not None else self.scene(index, t)
        if self.jpeg:
            return t, JpegFrame(_encode(image), f"{self.description}: frame {index}")
        return t, image

    def read(self) -> Frame | None:
        return decoded(self.poll())

    def close(self) -> None:
        with self._lock:
            self._opened = False

    def why_silent(self) -> str | None:
        with self._lock:
            return "frozen: the camera is open but delivers nothing" if self._frozen else None


def _encode(image: Image) -> Image:
    import cv2

    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise CameraError("fake camera: JPEG encoding failed")
    return np.asarray(buffer, np.uint8).reshape(-1)
