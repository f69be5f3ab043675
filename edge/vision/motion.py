"""Cheap motion detection: difference of consecutive downscaled grey images (numpy only)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class MotionDetector:
    """`update(frame)` is True when enough downscaled pixels changed by more than `pixel_delta`.

    Striding the frame to ~`width` pixels across costs microseconds, so it runs on every idle frame.
    """

    def __init__(self, pixel_delta: int = 25, fraction: float = 0.02, width: int = 64) -> None:
        self.pixel_delta = pixel_delta
        self.fraction = fraction
        self.width = width
        self._previous: npt.NDArray[np.int16] | None = None

    def small_grey(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
        step = max(1, frame.shape[1] // self.width)
        small = frame[::step, ::step]
        if small.ndim == 3:
            return small.sum(axis=2, dtype=np.int16) // small.shape[2]
        return small.astype(np.int16)

    def update(self, frame: npt.NDArray[np.uint8]) -> bool:
        grey = self.small_grey(frame)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return False
        moved = np.count_nonzero(np.abs(grey - previous) > self.pixel_delta)
        return bool(moved >= self.fraction * grey.size)

    def reset(self) -> None:
        self._previous = None
