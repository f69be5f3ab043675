"""The fake camera on a clock the test moves: its pace, its skipped frames, show/unplug/freeze."""

from __future__ import annotations

import numpy as np
import pytest

from edge.errors import CameraError
from edge.hw.camera_fake import FakeCamera
from edge.hw.frames import JpegFrame


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_frames_come_at_the_pace_and_times_of_the_camera_clock() -> None:
    clock = Clock()
    camera = FakeCamera(fps=10.0, clock=clock)
    camera.open()
    first = camera.poll()
    assert first is not None and first[0] == clock.t and first[1].shape == (120, 160, 3)
    assert camera.poll() is None  # the next frame is not due yet
    clock.t += 0.1
    second = camera.poll()
    assert second is not None and second[0] == pytest.approx(first[0] + 0.1)
    assert not np.array_equal(first[1], second[1])  # the block moved: the grabber sees motion
    clock.t += 0.55  # nobody polled for five frames: only the newest is handed out, as a V4L2 camera does
    third = camera.poll()
    assert third is not None and third[0] == pytest.approx(first[0] + 0.6)
    assert camera.delivered == 3 and camera.skipped == 4


def test_show_unplug_freeze_behave_like_the_real_thing() -> None:
    clock = Clock()
    camera = FakeCamera(fps=10.0, clock=clock)
    picture = np.full((48, 64, 3), 7, np.uint8)
    camera.show(picture)
    camera.open()
    frame = camera.read()
    assert frame is not None and np.array_equal(frame[1], picture)
    camera.unplug("USB cable pulled")
    with pytest.raises(CameraError, match="fake camera: USB cable pulled"):
        camera.poll()
    with pytest.raises(CameraError, match="cannot open: USB cable pulled"):
        camera.open()
    camera.plug_in()
    camera.open()
    assert camera.opens == 2 and camera.read() is not None
    camera.freeze()
    clock.t += 1.0
    assert camera.poll() is None and camera.why_silent() is not None and "frozen" in camera.why_silent()
    camera.thaw()
    assert camera.poll() is not None and camera.why_silent() is None
    camera.close()
    with pytest.raises(CameraError, match="before open"):
        camera.poll()


def test_jpeg_frames_decode_to_the_scene() -> None:
    clock = Clock()
    camera = FakeCamera(fps=5.0, clock=clock, jpeg=True)
    camera.open()
    polled = camera.poll()
    assert polled is not None and isinstance(polled[1], JpegFrame)
    image = polled[1].decode()
    reference = camera.scene(0, polled[0])
    assert image.shape == reference.shape
    assert float(np.abs(image.astype(int) - reference.astype(int)).mean()) < 3.0
    with pytest.raises(ValueError, match="fps"):
        FakeCamera(fps=0)
