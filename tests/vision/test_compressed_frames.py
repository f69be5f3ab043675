"""Frames kept compressed until something looks at them: real MJPG files and JPEG frame directories."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge.config.camera import CameraSection
from edge.errors import CameraError
from edge.hw.camera import FrameDirSource, JpegFrame, VideoFileSource
from edge.vision.frame_grabber import FrameGrabber
from edge.vision.ring import FrameRecord, FrameRing

from .frames import HEIGHT, WIDTH, still, wait_for, write_frames, write_video


def poll_frames(source: VideoFileSource | FrameDirSource, count: int, timeout: float = 3.0) -> list:
    frames: list = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        frame = source.poll()
        if frame is not None:
            frames.append(frame)
        time.sleep(0.01)
    assert len(frames) == count, f"{source.description}: {len(frames)} of {count} frames"
    return frames


def test_mjpg_video_polls_raw_packets_that_decode_to_the_frames_opencv_decodes(tmp_path: Path) -> None:
    import cv2

    write_video(tmp_path / "clip.avi", 30, fps=30.0)
    source = VideoFileSource(tmp_path / "clip.avi")
    source.open()
    try:
        frames = poll_frames(source, 4)
    finally:
        source.close()
    assert all(isinstance(image, JpegFrame) for _, image in frames)
    reference = cv2.VideoCapture(str(tmp_path / "clip.avi"))  # OpenCV's own decode of the same file
    decoded = []
    for _ in range(30):
        ok, image = reference.read()
        assert ok
        decoded.append(image.astype(np.int16))
    reference.release()
    start = frames[0][0]
    for t, packet in frames:
        image = packet.decode()
        assert image.shape == (HEIGHT, WIDTH, 3) and image.dtype == np.uint8
        index = round((t - start) * 30.0)  # the first poll is frame 0 (opened just before)
        assert np.abs(image.astype(np.int16) - decoded[index]).mean() < 2.0, f"frame {index} differs"


def test_corrupt_jpeg_frame_raises_camera_error_naming_it() -> None:
    garbage = np.frombuffer(b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9", np.uint8)
    with pytest.raises(CameraError, match="corrupt JPEG frame"):
        JpegFrame(garbage, "frame directory /x: 1.jpg").decode()


def test_ring_decodes_a_compressed_frame_once_on_first_look() -> None:
    import cv2

    ok, encoded = cv2.imencode(".jpg", still())
    assert ok
    calls = []

    class Counting(JpegFrame):
        __slots__ = ()

        def decode(self) -> np.ndarray:
            calls.append(1)
            return super().decode()

    record = FrameRing(5.0).push(time.time(), Counting(encoded.reshape(-1), "test"))
    assert not record.decoded and calls == []
    first = record.image
    assert record.decoded and first.shape == (HEIGHT, WIDTH, 3)
    assert record.image is first and len(calls) == 1


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
        assert wait_for(lambda: len(seen) >= 30)
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
        assert wait_for(lambda: capture.status().bad_frames == 1)
        assert wait_for(lambda: capture.ring.latest() is not None and capture.ring.latest().t == times[-1])
    finally:
        capture.stop()
    status = capture.status()
    assert status.camera_ok is True and status.unexpected_errors == 0
    assert all(record.decoded for record in capture.ring.frames_between(0, 2e9))  # idle: decoded for motion


def test_looped_mjpg_video_wraps_and_skips_without_ending(tmp_path: Path) -> None:
    write_video(tmp_path / "clip.avi", 12, fps=60.0)  # 0.2 s per loop
    source = VideoFileSource(tmp_path / "clip.avi", loop=True)
    source.open()
    times = []
    try:
        deadline = time.monotonic() + 1.5
        for pause in [0.003, 0.011, 0.05, 0.0, 0.13] * 100:  # next frame, a few skipped, a whole loop skipped
            if time.monotonic() > deadline:
                break
            frame = source.poll()
            if frame is not None:
                assert isinstance(frame[1], JpegFrame)
                times.append(frame[0])
            time.sleep(pause)
    finally:
        source.close()
    assert len(times) >= 15 and times == sorted(times) and times[-1] - times[0] > 1.0  # 5+ loops, never ended
