"""What every camera source hands out: frames as (unix time, BGR image) or still-compressed JpegFrames,
behind the small FrameSource interface the grabber thread polls."""

from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError
from edge.hw.jpeg import JPEG_SOI, decode_jpeg

Image = npt.NDArray[np.uint8]
Frame = tuple[float, Image]  # (unix time, BGR image)
MJPG_FOURCCS = {"MJPG", "AVI1", "JPEG", "MJPA"}


class JpegFrame:
    """One frame still JPEG-compressed; `decode()` gives the BGR image (a 640x480 decode costs ~0.8 ms here),
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

    def why_silent(self) -> str | None:
        """What the source saw that explains why no frame came (e.g. a frame directory's ignored files
        and why), for the drop-out message; None when it cannot tell."""
        ...


def decoded(frame: PolledFrame | None) -> Frame | None:
    if frame is None or isinstance(frame[1], np.ndarray):
        return frame  # type: ignore[return-value]
    return frame[0], frame[1].decode()


def first_frame(source: FrameSource, timeout: float, poll_s: float = 0.01) -> Frame:
    """The first decoded frame an opened source delivers; CameraError naming it after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = source.read()
        if frame is not None:
            return frame
        time.sleep(poll_s)
    why = source.why_silent()
    raise CameraError(f"{source.description}: no frame within {timeout:g}s{f'; {why}' if why else ''}")


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
