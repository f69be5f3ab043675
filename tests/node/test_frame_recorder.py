"""FrameRecorder (`serial record --frames`): the camera's frames as <unix ms>.jpg beside a capture, the
source's JPEG bytes as they came, bounded by count and bytes, and a directory replay reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config.camera import CameraSection
from edge.errors import CameraError
from edge.hw.camera_files import FrameDirSource
from edge.node.frame_recorder import FrameRecorder
from edge.vision.recorded import FrameDirectory
from tests.plugins.waiting import wait_until
from tests.vision.frames import write_frames

SETTINGS = CameraSection(source="camera", active_fps=40.0)


def test_frames_are_recorded_by_their_time_as_the_source_gave_them(tmp_path: Path) -> None:
    times = write_frames(tmp_path / "camera", 12, 0.05)
    recorder = FrameRecorder(FrameDirSource(tmp_path / "camera"), SETTINGS, tmp_path / "rec", 1000, 10**8).start()
    assert wait_until(lambda: recorder.status().frames >= 10, timeout=5)
    done = recorder.stop()
    recorded = list(FrameDirectory(tmp_path / "rec").times_ms())
    assert len(recorded) == done.frames and set(recorded) <= {round(t * 1000) for t in times}
    assert done.full is None and done.errors == 0
    first = recorded[0]
    assert (tmp_path / "rec" / f"{first}.jpg").read_bytes() == (tmp_path / "camera" / f"{first}.jpg").read_bytes()


def test_recording_stops_at_its_bounds(tmp_path: Path) -> None:
    write_frames(tmp_path / "camera", 20, 0.03)
    recorder = FrameRecorder(FrameDirSource(tmp_path / "camera"), SETTINGS, tmp_path / "rec", 4, 10**8).start()
    assert wait_until(lambda: recorder.status().full is not None, timeout=5)
    done = recorder.stop()
    assert done.full == "max 4 frames" and done.frames == 4 and len(list((tmp_path / "rec").glob("*.jpg"))) == 4
    size = (tmp_path / "rec").glob("*.jpg").__next__().stat().st_size
    small = FrameRecorder(FrameDirSource(tmp_path / "camera"), SETTINGS, tmp_path / "rec2", 100, 2 * size + 10)
    small.start()
    assert wait_until(lambda: small.status().full is not None, timeout=5)
    assert small.stop().full.startswith("max ") and small.status().bytes <= 2 * size + 10  # type: ignore[union-attr]


def test_a_camera_that_fails_is_retried_and_a_used_directory_refused(tmp_path: Path) -> None:
    settings = CameraSection(source="camera", active_fps=40.0, retry_min_s=0.05, retry_max_s=0.1)
    recorder = FrameRecorder(FrameDirSource(tmp_path / "missing"), settings, tmp_path / "rec", 10, 10**6).start()
    assert wait_until(lambda: recorder.status().errors >= 2, timeout=5)
    done = recorder.stop()
    assert done.frames == 0 and "not found" in (done.last_error or "")
    write_frames(tmp_path / "rec", 1, 0.05)
    with pytest.raises(CameraError, match="already holds frames"):
        FrameRecorder(FrameDirSource(tmp_path / "camera"), settings, tmp_path / "rec", 10, 10**6)
