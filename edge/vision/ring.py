"""The last few seconds of frames, so the fusion can look back to when a weight event began."""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.config.camera import CameraSection
from edge.model import Detection

Image = npt.NDArray[np.uint8]


class Undecoded(Protocol):
    """A frame still in its compressed form (e.g. one MJPG packet); decode() raises CameraError if corrupt."""

    @property
    def nbytes(self) -> int: ...

    def decode(self, into: Image | None = None) -> Image: ...


class FrameRecord:
    """One captured frame. `detections` is None until the detector has looked at it; `windows` holds the
    detections (in frame pixels) of the plate windows it also ran on, by plate (edge.vision.plate_crops).

    The image may arrive undecoded: it is then decoded on first access of `image`, so frames that
    nothing looks at (the detector was busy, no evidence asked for them) never cost a decode.
    """

    __slots__ = ("_image", "_undecoded", "detections", "seq", "t", "windows")

    def __init__(self, t: float, seq: int, image: Image | Undecoded) -> None:
        self.t = t
        self.seq = seq
        self._image: Image | None = image if isinstance(image, np.ndarray) else None
        self._undecoded: Undecoded | None = None if isinstance(image, np.ndarray) else image
        self.detections: tuple[Detection, ...] | None = None
        self.windows: dict[str, tuple[Detection, ...]] = {}  # replaced whole by the live worker, before detections

    @property
    def decoded(self) -> bool:
        return self._image is not None

    @property
    def nbytes(self) -> int:
        """Memory the frame holds now: its decoded image once decoded, else its compressed form."""
        image = self._image
        if image is not None:
            return int(image.nbytes)
        undecoded = self._undecoded
        return 0 if undecoded is None else int(undecoded.nbytes)

    @property
    def image(self) -> Image:
        """The BGR image, decoded now if needed (CameraError when the compressed frame is corrupt)."""
        image = self._image
        if image is None:
            undecoded = self._undecoded
            # Two threads may race to decode the same frame: both get the same pixels; _image is set
            # before _undecoded is cleared, so a reader that sees no undecoded frame finds the image.
            image = self._image if undecoded is None else undecoded.decode()
            assert image is not None
            self._image = image
            self._undecoded = None
        return image

    def image_once(self, scratch: Image) -> Image:
        """The BGR image for a caller that is done with it before it next calls this with the same
        `scratch`: a compressed frame is decoded into `scratch` (when the shapes match) and not kept,
        so frames the detector ran on do not each hold 0.9 MB (640x480) in the ring."""
        image = self._image
        if image is not None:
            return image
        undecoded = self._undecoded
        return self.image if undecoded is None else undecoded.decode(scratch)


class FrameRing:
    """Time-bounded buffer of frames, also bounded by count and by memory (the frames' size as pushed;
    a frame decoded later for a look is not counted again); thread-safe. The newest frame always stays."""

    def __init__(self, seconds: float, max_frames: int = 600, max_bytes: int = 64 << 20) -> None:
        self.seconds = seconds
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames: deque[tuple[FrameRecord, int]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._next_seq = 0

    def push(self, t: float, image: Image | Undecoded) -> FrameRecord:
        with self._lock:
            record = FrameRecord(t, self._next_seq, image)
            self._next_seq += 1
            self._frames.append((record, image.nbytes))
            self._bytes += image.nbytes
            frames = self._frames
            while len(frames) > 1 and (
                frames[0][0].t < t - self.seconds or len(frames) > self.max_frames or self._bytes > self.max_bytes
            ):
                self._bytes -= frames.popleft()[1]
            return record

    @classmethod
    def for_camera(cls, settings: CameraSection) -> FrameRing:
        return cls(settings.buffer_s, max_bytes=int(settings.buffer_max_mb * (1 << 20)))

    @property
    def nbytes(self) -> int:
        """Memory the buffered frames took when pushed."""
        with self._lock:
            return self._bytes

    def frames_between(self, t0: float, t1: float) -> list[FrameRecord]:
        """Frames with t0 <= t <= t1, oldest first."""
        with self._lock:
            return [record for record, _ in self._frames if t0 <= record.t <= t1]

    def latest(self) -> FrameRecord | None:
        with self._lock:
            return self._frames[-1][0] if self._frames else None

    def by_seq(self, seq: int) -> FrameRecord | None:
        with self._lock:
            return next((record for record, _ in self._frames if record.seq == seq), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)
