"""Frames kept compressed until something looks at them, through the grabber: nobody-looks frames, corrupt files."""

from __future__ import annotations

from pathlib import Path

from edge.config.camera import CameraSection
from edge.hw.camera import FrameDirSource
from edge.vision.frame_grabber import FrameGrabber
from edge.vision.ring import FrameRecord
from tests.plugins.waiting import wait_until

from .frames import HEIGHT, WIDTH, write_frames


def test_active_frames_nobody_looks_at_stay_compressed(tmp_path: Path) -> None:
    write_frames(tmp_path, 150, 0.02)  # 3 s at 50 fps
    seen: list[FrameRecord] = []
    capture = FrameGrabber(
        FrameDirSource(tmp_path),
        CameraSection(source=str(tmp_path), idle_fps=2, active_fps=50, buffer_s=30, active_hold_s=0),
        on_frame=lambda record, _: seen.append(record),  # a consumer that never needs the pixels
    )
    capture.set_active(True)
    capture.start()
    try:
        assert wait_until(lambda: len(seen) >= 30)
    finally:
        capture.stop()
    decoded = sum(record.decoded for record in seen)
    # Only the motion check decodes while active, at most idle_fps (2/s) times a second, plus the first.
    assert decoded <= 2 + 2 * (seen[-1].t - seen[0].t) + 1, f"{decoded} of {len(seen)} frames decoded"
    assert seen[-1].image.shape == (HEIGHT, WIDTH, 3)  # and any of them decodes on demand


def test_corrupt_frame_file_is_counted_and_skipped(tmp_path: Path) -> None:
    times = write_frames(tmp_path, 20, 0.05)
    bad = tmp_path / f"{int(times[3] * 1000) + 1}.jpg"
    bad.write_bytes(b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9")  # complete but not a JPEG inside
    capture = FrameGrabber(
        FrameDirSource(tmp_path),
        CameraSection(source=str(tmp_path), idle_fps=50, active_fps=50, buffer_s=30, active_hold_s=0),
    )
    capture.start()
    try:
        assert wait_until(lambda: capture.status().bad_frames == 1)
        assert wait_until(lambda: capture.ring.latest() is not None and capture.ring.latest().t == times[-1])
    finally:
        capture.stop()
    status = capture.status()
    assert status.camera_ok is True and status.unexpected_errors == 0
    assert all(record.decoded for record in capture.ring.frames_between(0, 2e9))  # idle: decoded for motion
