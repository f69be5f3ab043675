"""Helpers that write real JPEG frame directories and video files for the camera tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.atomic_file import replace_atomically

WIDTH, HEIGHT = 160, 120


def still(value: int = 90) -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), value, dtype=np.uint8)
    image[20:40, 20:60] = (30, 160, 220)  # some texture so JPEG has edges
    return image


def with_block(x: int) -> np.ndarray:
    """A still with a bright block at column x: a moving object when x changes."""
    image = still()
    image[50:110, x : x + 50] = 255
    return image


def write_frames(
    directory: Path,
    count: int,
    step_s: float,
    start: float | None = None,
    image_for: Callable[[int], np.ndarray] = lambda i: still(),
) -> list[float]:
    """Frames named <unix ms>.jpg; returns their timestamps (s)."""
    import cv2

    directory.mkdir(parents=True, exist_ok=True)
    start = time.time() if start is None else start
    times = []
    for i in range(count):
        ms = int((start + i * step_s) * 1000)
        encoded, jpeg = cv2.imencode(".jpg", image_for(i))
        assert encoded, "cv2 could not encode a test frame"
        replace_atomically(directory / f"{ms}.jpg", jpeg.tobytes(), durable=False)  # appears whole, like a camera's
        times.append(ms / 1000)
    return times


def write_video(path: Path, count: int, fps: float = 30.0) -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write MJPG here"
    for i in range(count):
        writer.write(with_block(i % (WIDTH - 50)))
    writer.release()
