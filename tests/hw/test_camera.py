"""Choosing a camera backend from the source spec, and the network stream source (on a file:// URL)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge.errors import CameraError
from edge.hw.camera import FrameDirSource, VideoFileSource, open_source
from tests.vision.frames import write_video


def test_open_source_picks_backend_by_spec(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    assert isinstance(open_source(str(tmp_path / "frames")), FrameDirSource)
    assert isinstance(open_source(str(tmp_path / "clip.avi")), VideoFileSource)
    assert type(open_source("/dev/v4l/by-id/usb-cam-video-index0")).__name__ == "LiveSource"
    assert type(open_source("rtsp://10.0.0.5/stream")).__name__ == "StreamSource"
    with pytest.raises(CameraError, match="fix \\[camera\\] source"):
        open_source(str(tmp_path / "nothing-here"))


def test_stream_source_returns_newest_grab_once_and_reports_the_end(tmp_path: Path) -> None:
    from edge.hw.camera import StreamSource

    write_video(tmp_path / "stream.avi", 200, fps=30.0)
    source = StreamSource(f"file://{tmp_path / 'stream.avi'}")  # FFmpeg reads a file URL flat out
    source.open()
    try:
        frames, ended = [], None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                frame = source.read()
            except CameraError as exc:
                ended = str(exc)
                break
            if frame is not None:
                frames.append(frame)
            time.sleep(0.005)  # pacing, not a wait: a polling consumer slower than the stream
        assert ended is not None and "stream ended or lost" in ended
        assert frames and all(f[1].shape == (120, 160, 3) for f in frames)
        assert [t for t, _ in frames] == sorted(t for t, _ in frames)
        assert len(frames) < 200  # stale frames were skipped, not queued
    finally:
        source.close()
    with pytest.raises(CameraError, match="cannot open"):
        StreamSource(f"file://{tmp_path / 'absent.avi'}").open()
