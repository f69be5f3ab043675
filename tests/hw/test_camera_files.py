"""Recorded camera sources: MJPG video files read as raw packets, looping, and JPEG frame directories."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge.errors import CameraError
from edge.hw.camera import FrameDirSource, JpegFrame, VideoFileSource
from edge.hw.frames import first_frame
from tests.plugins.waiting import wait_until
from tests.vision.frames import HEIGHT, WIDTH, still, write_frames, write_video


def poll_frames(source: VideoFileSource | FrameDirSource, count: int, timeout: float = 3.0) -> list:
    """The first `count` frames the source delivers, polled as the grabber does (the one wait_until)."""
    frames: list = []

    def polled_enough() -> bool:
        frame = source.poll()
        if frame is not None:
            frames.append(frame)
        return len(frames) >= count

    wait_until(polled_enough, timeout, step=0.01)
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
            time.sleep(pause)  # pacing of the scenario, not a wait: a consumer polling at these intervals
    finally:
        source.close()
    assert len(times) >= 15 and times == sorted(times) and times[-1] - times[0] > 1.0  # 5+ loops, never ended


def write_bad_frames(directory: Path) -> None:
    """A frame directory a technician might really get: a misnamed frame, one cut short, one not a JPEG."""
    import cv2

    directory.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".jpg", still())
    assert ok
    data = encoded.tobytes()
    (directory / "frame-0001.jpg").write_bytes(data)  # a good JPEG with a name that carries no time
    (directory / "1700000000000.jpg").write_bytes(data[: len(data) // 2])  # half-written
    (directory / "1700000000050.jpg").write_text("this is a text file\n")
    (directory / ".1700000000100.jpg.tmp").write_bytes(data[:10])  # a writer's hidden temporary: not a cause


def test_frame_directory_without_frames_says_which_files_were_ignored_and_why(tmp_path: Path) -> None:
    write_bad_frames(tmp_path / "frames")
    source = FrameDirSource(tmp_path / "frames")
    source.open()
    with pytest.raises(CameraError) as caught:
        first_frame(source, 0.3)
    message = str(caught.value)
    assert message.startswith(f"frame directory {tmp_path / 'frames'}: no frame within 0.3s; files ignored: ")
    assert "1700000000000.jpg: not a complete JPEG (" in message and "no end marker" in message
    assert "1700000000050.jpg: not a JPEG (20 bytes, no JPEG start marker)" in message
    assert "frame-0001.jpg: not named <unix ms>.jpg" in message
    assert ".tmp" not in message


def test_an_empty_frame_directory_says_so_and_a_good_frame_still_comes_after_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    source = FrameDirSource(tmp_path / "empty")
    source.open()
    with pytest.raises(CameraError, match=r"no frame within 0.2s; the directory is empty; frames must be"):
        first_frame(source, 0.2)
    write_bad_frames(tmp_path / "mixed")
    write_frames(tmp_path / "mixed", 1, 0.05, start=1_700_000_000.2)
    source = FrameDirSource(tmp_path / "mixed")
    source.open()
    t, image = first_frame(source, 2.0)
    assert t == 1_700_000_000.2 and image.shape == (HEIGHT, WIDTH, 3)


def test_ignored_files_that_are_gone_are_no_longer_named(tmp_path: Path) -> None:
    write_bad_frames(tmp_path)
    source = FrameDirSource(tmp_path)
    source.open()
    with pytest.raises(CameraError, match=r"1700000000000\.jpg"):
        first_frame(source, 0.2)
    for path in tmp_path.iterdir():
        path.unlink()
    why = source.why_silent()
    assert why is not None and "1700000000000.jpg" not in why and "frame-0001" not in why


def test_a_frame_directory_replaced_by_a_file_is_a_camera_error_not_a_crash(tmp_path: Path) -> None:
    import shutil

    directory = tmp_path / "frames"
    write_frames(directory, 2, 0.05, start=1_700_000_000.0)
    source = FrameDirSource(directory)
    source.open()
    assert first_frame(source, 2.0)[0] == 1_700_000_000.0
    shutil.rmtree(directory)
    directory.write_text("a file where the frames were\n")
    with pytest.raises(CameraError, match=r"frames: cannot be listed \(Not a directory\)"):
        source.poll()
    with pytest.raises(CameraError, match="is a file, not a directory; fix \\[camera\\] source"):
        source.open()


def test_an_empty_or_garbage_video_file_is_named_with_the_likely_cause(tmp_path: Path) -> None:
    (tmp_path / "empty.avi").write_bytes(b"")
    (tmp_path / "junk.avi").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    with pytest.raises(CameraError, match=r"empty\.avi: empty file; fix \[camera\] source"):
        VideoFileSource(tmp_path / "empty.avi").open()
    with pytest.raises(CameraError, match=r"junk\.avi: OpenCV cannot open it \(not a video, corrupt, or unsupported"):
        VideoFileSource(tmp_path / "junk.avi").open()
