"""One contract, every camera backend that can run here (gpiozero's test_real_pins idea).

A real camera (V4L2 device or stream URL) is included when SHELF_NODE_TEST_CAMERA names one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.errors import CameraError
from edge.hw import frames
from edge.hw.camera import FrameDirSource, FrameSource, VideoFileSource, open_source
from edge.hw.camera_fake import FakeCamera
from tests.vision.frames import HEIGHT, WIDTH, write_frames, write_video


def frame_dir(tmp_path: Path) -> FrameSource:
    write_frames(tmp_path / "frames", 10, 0.03)
    return FrameDirSource(tmp_path / "frames")


def video_file(tmp_path: Path) -> FrameSource:
    write_video(tmp_path / "clip.avi", 10, fps=30.0)
    return VideoFileSource(tmp_path / "clip.avi")


def fake_camera(tmp_path: Path) -> FrameSource:
    return FakeCamera(WIDTH, HEIGHT, fps=30.0)


def fake_jpeg_camera(tmp_path: Path) -> FrameSource:
    return FakeCamera(WIDTH, HEIGHT, fps=30.0, jpeg=True)


def live(tmp_path: Path) -> FrameSource:
    return open_source(os.environ["SHELF_NODE_TEST_CAMERA"])  # LiveSource (V4L2) or StreamSource (URL)


BACKENDS: list[Callable[[Path], FrameSource]] = [frame_dir, video_file, fake_camera, fake_jpeg_camera]
if os.environ.get("SHELF_NODE_TEST_CAMERA"):
    BACKENDS.append(live)


def first_frame(source: FrameSource) -> tuple[float, np.ndarray]:
    return frames.first_frame(source, timeout=3.0)


@pytest.mark.parametrize("make", BACKENDS, ids=lambda f: f.__name__)
def test_frames_are_timestamped_bgr_images_in_time_order(make: Callable[[Path], FrameSource], tmp_path: Path) -> None:
    source = make(tmp_path)
    source.open()
    try:
        t1, image = first_frame(source)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        if make is not live:
            assert image.shape[:2] == (HEIGHT, WIDTH)
        assert abs(t1 - time.time()) < 60  # unix seconds, recent
        time.sleep(0.1)
        t2, _ = first_frame(source)
        assert t2 > t1
    finally:
        source.close()
    source.close()  # closing twice is harmless


def remove(source: FrameSource) -> str:
    """Take the source away as it goes in the field (files deleted, camera unplugged); what its error names."""
    if isinstance(source, FakeCamera):
        source.unplug()
        return source.description
    target: Path = getattr(source, "directory", None) or source.path  # type: ignore[attr-defined]
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    return str(target)


@pytest.mark.parametrize("make", [frame_dir, video_file, fake_camera], ids=lambda f: f.__name__)
def test_missing_source_raises_camera_error_naming_it(make: Callable[[Path], FrameSource], tmp_path: Path) -> None:
    source = make(tmp_path)
    named = remove(source)
    with pytest.raises(CameraError, match=named):
        source.open()


@pytest.mark.parametrize("make", [frame_dir, fake_camera], ids=lambda f: f.__name__)
def test_a_source_lost_while_open_raises_or_goes_silent_never_crashes(
    make: Callable[[Path], FrameSource], tmp_path: Path
) -> None:
    """The grabber's two drop-out paths: poll() raises CameraError (it reconnects) or returns None (it
    declares the camera lost after dropout_s); anything else would kill or fool it."""
    source = make(tmp_path)
    source.open()
    try:
        first_frame(source)
        remove(source)
        outcomes = set()
        for _ in range(5):
            try:
                outcomes.add("frame" if source.poll() is not None else "silent")
            except CameraError:
                outcomes.add("raised")
        assert "frame" not in outcomes
    finally:
        source.close()
