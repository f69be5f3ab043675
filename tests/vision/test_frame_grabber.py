"""The frame grabber thread over real backends: rate, motion, drop-outs, reconnects, faults, wake-ups."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from edge.config.camera import CameraSection
from edge.hw.camera import FrameDirSource, VideoFileSource
from edge.vision.frame_grabber import FrameGrabber
from edge.vision.motion import MotionDetector
from edge.vision.ring import FrameRecord
from tests.plugins.waiting import wait_until

from .frames import still, with_block, write_frames, write_video

FAST = {"dropout_s": 0.4, "retry_min_s": 0.05, "retry_max_s": 0.2, "buffer_s": 30.0, "active_hold_s": 0.0}


def settings(source: Path, **overrides: float) -> CameraSection:
    return CameraSection(source=str(source), **{**FAST, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def captures() -> list[FrameGrabber]:
    started: list[FrameGrabber] = []
    yield started
    for capture in started:
        capture.stop()


def start(captures: list[FrameGrabber], capture: FrameGrabber) -> FrameGrabber:
    captures.append(capture)
    capture.start()
    return capture


def test_frame_dir_timestamps_from_names_and_look_back(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    times = write_frames(tmp_path, 20, 0.05, start=1_700_000_000.0)
    capture = FrameGrabber(FrameDirSource(tmp_path), settings(tmp_path, active_fps=40, idle_fps=40))
    start(captures, capture)
    assert wait_until(lambda: capture.ring.latest() is not None and capture.ring.latest().t == times[-1])
    seen = [r.t for r in capture.ring.frames_between(0, 2e9)]
    assert set(seen) <= set(times) and seen == sorted(seen) and len(seen) >= 5
    window = capture.ring.frames_between(times[5], times[12])
    assert window and all(times[5] <= r.t <= times[12] for r in window)
    assert capture.status().camera_ok is True


def test_ring_forgets_frames_older_than_its_span(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    times = write_frames(tmp_path, 30, 0.05, start=1_700_000_000.0)
    capture = FrameGrabber(FrameDirSource(tmp_path), settings(tmp_path, active_fps=60, idle_fps=60, buffer_s=0.5))
    start(captures, capture)
    assert wait_until(lambda: capture.ring.latest() is not None and capture.ring.latest().t == times[-1])
    assert min(r.t for r in capture.ring.frames_between(0, 2e9)) >= times[-1] - 0.5


def test_a_live_writers_new_frame_is_not_held_behind_the_backlog_found_at_open(
    tmp_path: Path, captures: list[FrameGrabber]
) -> None:
    """A daemon started after the camera's writer (`shelf-node demo --camera`; under load, seconds later) finds a
    backlog: paced from its oldest frame, every new frame came that much late, and an event's window held no frame
    yet when its evidence was taken (the review pictures were missing). A new frame is due when its time comes."""
    backlog = write_frames(tmp_path, 11, 1.0, start=time.time() - 11.0)  # the writer ran 11 s before the daemon
    os.utime(tmp_path, (backlog[0], backlog[0]))  # the frame written next changes the directory's mtime
    capture = start(captures, FrameGrabber(FrameDirSource(tmp_path), settings(tmp_path, idle_fps=20, active_fps=20,
                                                                              dropout_s=30.0)))
    assert wait_until(lambda: capture.status().frames >= 1)
    (live,) = write_frames(tmp_path, 1, 0.0)
    assert wait_until(lambda: capture.status().last_frame_t == live, 5.0), capture.status()  # paced: 11 s
    seen = [r.t for r in capture.ring.frames_between(0, 2e9)]
    assert seen[0] == backlog[0] and seen[-1] == live and len(seen) <= 7  # the overdue backlog skipped


def test_frame_dir_emptied_is_a_dropout_and_new_frames_recover(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    write_frames(tmp_path, 5, 0.02)
    capture = start(captures, FrameGrabber(FrameDirSource(tmp_path), settings(tmp_path, idle_fps=20, active_fps=20)))
    assert wait_until(lambda: capture.status().frames >= 1)
    for frame in tmp_path.glob("*.jpg"):
        frame.unlink()
    assert wait_until(lambda: capture.status().camera_ok is False)
    status = capture.status()
    assert status.dropouts >= 1 and "no frame" in status.camera_error
    frames_before = status.frames
    write_frames(tmp_path, 5, 0.02)
    assert wait_until(lambda: capture.status().camera_ok is True and capture.status().frames > frames_before)
    assert capture.status().reconnects >= 1


def test_frame_dir_of_unusable_files_says_which_and_why_in_camera_error(
    tmp_path: Path, captures: list[FrameGrabber], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "1700000000000.jpg").write_bytes(b"\xff\xd8" + bytes(500))  # cut short: no end marker
    (tmp_path / "shelf.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    capture = start(captures, FrameGrabber(FrameDirSource(tmp_path), settings(tmp_path, idle_fps=20, active_fps=20)))
    assert wait_until(lambda: capture.status().dropouts >= 1)
    error = capture.status().camera_error or ""
    assert error.startswith(f"frame directory {tmp_path}: opened but delivers no frames; files ignored: "), error
    assert "1700000000000.jpg: not a complete JPEG (502 bytes, no end marker)" in error
    assert "shelf.jpg: not named <unix ms>.jpg" in error
    assert any("not a complete JPEG" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_frame_dir_removed_retries_until_it_returns(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    directory = tmp_path / "cam"
    write_frames(directory, 3, 0.02)
    capture = start(captures, FrameGrabber(FrameDirSource(directory), settings(directory, idle_fps=20, active_fps=20)))
    assert wait_until(lambda: capture.status().camera_ok is True)
    shutil.rmtree(directory)
    assert wait_until(lambda: "not found" in (capture.status().camera_error or ""))
    assert capture.status().camera_ok is False
    write_frames(directory, 3, 0.02)
    assert wait_until(lambda: capture.status().camera_ok is True)


def test_video_file_frames_timed_by_position_and_end_detected(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    video = tmp_path / "shelf.avi"
    write_video(video, 15, fps=30.0)  # half a second
    records: list[FrameRecord] = []
    capture = FrameGrabber(
        VideoFileSource(video), settings(video, idle_fps=60, active_fps=60), on_frame=lambda r, _: records.append(r)
    )
    start(captures, capture)
    assert wait_until(lambda: "stream ended" in (capture.status().camera_error or ""))
    first_run = [r for r in records if r.t - records[0].t < 0.6]
    assert len(first_run) >= 5
    offsets = [(r.t - first_run[0].t) * 30.0 for r in first_run]
    assert all(abs(o - round(o)) < 1e-3 for o in offsets), "t = open time + frame index / fps"
    assert first_run[0].image.shape == (120, 160, 3)
    # After the end the source is reopened with backoff: the replay counts as a recovery.
    assert wait_until(lambda: capture.status().reconnects >= 1 and capture.status().camera_ok is True)
    video.unlink()
    assert wait_until(lambda: "not found" in (capture.status().camera_error or ""))


def test_motion_detector_sees_a_moving_block_not_a_still_scene() -> None:
    motion = MotionDetector(pixel_delta=25, fraction=0.02)
    assert motion.update(still()) is False  # first frame: nothing to compare
    assert motion.update(still()) is False
    assert motion.update(still(value=95)) is False  # small lighting drift
    assert motion.update(with_block(10)) is True
    assert motion.update(with_block(10)) is False
    assert motion.update(with_block(90)) is True


def test_rate_idle_until_active_then_full_rate(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    # 6 s of 25 fps still frames: the source has far more than the idle rate needs.
    write_frames(tmp_path, 150, 0.04)
    worth: list[bool] = []
    capture = FrameGrabber(
        FrameDirSource(tmp_path),
        settings(tmp_path, idle_fps=2, active_fps=25, dropout_s=3),
        on_frame=lambda _, w: worth.append(w),
    )
    start(captures, capture)
    time.sleep(1.0)
    idle_frames = capture.status().frames
    assert 1 <= idle_frames <= 4 and not any(worth), "idle: ~2 fps and nothing worth detecting"
    capture.set_active(True)
    time.sleep(1.0)
    active_frames = capture.status().frames - idle_frames
    assert active_frames >= 8, f"active rate gave only {active_frames} frames in 1 s"
    assert capture.status().mode == "active" and worth[-1] is True
    capture.set_active(False)
    time.sleep(0.3)
    assert not capture.is_active()


def test_motion_switches_to_full_rate(tmp_path: Path, captures: list[FrameGrabber]) -> None:
    write_frames(tmp_path, 100, 0.04, image_for=lambda i: still() if i < 40 else with_block((i * 7) % 100))
    worth: list[bool] = []
    capture = FrameGrabber(
        FrameDirSource(tmp_path),
        settings(tmp_path, idle_fps=2, active_fps=25, active_hold_s=2.0, dropout_s=3),
        on_frame=lambda _, w: worth.append(w),
    )
    start(captures, capture)
    assert wait_until(lambda: capture.status().motion_events >= 1, timeout=4.0)
    assert wait_until(lambda: capture.is_active() and sum(worth) >= 3, timeout=2.0)


class FaultOnce:
    """A real frame-directory source that throws an unexpected error on its third read (fault injection)."""

    def __init__(self, inner: FrameDirSource) -> None:
        self.inner = inner
        self.description = inner.description
        self.reads = 0

    def open(self) -> None:
        self.inner.open()

    def poll(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        if self.reads == 3:
            raise ZeroDivisionError("bug in a backend")
        return self.inner.poll()

    def why_silent(self) -> str | None:
        return self.inner.why_silent()

    def read(self):  # type: ignore[no-untyped-def]
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def test_unexpected_backend_error_is_counted_logged_and_survived(
    tmp_path: Path, captures: list[FrameGrabber], caplog: pytest.LogCaptureFixture
) -> None:
    write_frames(tmp_path, 60, 0.05)
    capture = FrameGrabber(FaultOnce(FrameDirSource(tmp_path)), settings(tmp_path, idle_fps=20, active_fps=20))
    start(captures, capture)
    assert wait_until(lambda: capture.status().unexpected_errors == 1)
    frames = capture.status().frames
    assert wait_until(lambda: capture.status().frames > frames and capture.status().camera_ok is True)
    assert "ZeroDivisionError: bug in a backend" in caplog.text  # logged with its traceback


def test_wake_runs_the_hook_on_the_capture_thread_without_an_extra_poll(
    tmp_path: Path, captures: list[FrameGrabber]
) -> None:
    import threading

    write_frames(tmp_path, 200, 0.02)
    hook_threads: list[str] = []
    capture = FrameGrabber(
        FrameDirSource(tmp_path),
        settings(tmp_path, idle_fps=0.5, active_fps=0.5, dropout_s=5),
        on_wake=lambda: hook_threads.append(threading.current_thread().name),
    )
    start(captures, capture)
    assert wait_until(lambda: capture.status().frames == 1)
    calls = len(hook_threads)
    capture.wake()  # mid-period: the hook runs now, the source is not read before its time
    assert wait_until(lambda: len(hook_threads) > calls, timeout=0.5)
    assert set(hook_threads) == {"frame-grabber"} and capture.status().frames == 1
