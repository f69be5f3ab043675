"""Recorded camera sources: MJPG video files read as raw packets, looping, and JPEG frame directories."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edge.hw.camera import FrameDirSource, JpegFrame, VideoFileSource
from tests.vision.frames import HEIGHT, WIDTH, write_video


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
