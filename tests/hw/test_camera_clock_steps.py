"""Frame sources pace by the monotonic clock: a step of the wall clock (NTP, a wrong RTC set right) neither
stalls a frame directory or a video file (a step back of 10 minutes: no frame for 10 minutes, the camera
declared lost) nor flushes it at once (a step forward). The sources run in a subprocess whose wall clock
`bench/wallclock.py` shifts; a video's frame stamps follow the wall clock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.wallclock import WallClockShift
from tests.vision.frames import write_frames, write_video

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json, queue, sys, time
from pathlib import Path
from edge.config.camera import CameraSection
from edge.hw.camera import FrameDirSource, VideoFileSource
from edge.vision.frame_grabber import FrameGrabber
kind, path = sys.argv[1], Path(sys.argv[2])
source = FrameDirSource(path) if kind == "dir" else VideoFileSource(path, loop=True)
arrived = queue.Queue()  # (frame t, wall) as the daemon's grabber thread hands each frame on
grabber = FrameGrabber(source, CameraSection(source=str(path), idle_fps=50, active_fps=50),
                       on_frame=lambda record, active: arrived.put((record.t, time.time())))
grabber.start()
out = []
for second in range(3):
    if second:  # the test steps the wall clock, then answers
        print("step", flush=True)
        sys.stdin.readline()
        while not arrived.empty():  # frames of the step itself belong to no window
            arrived.get_nowait()
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        try:
            t, wall = arrived.get(timeout=left)
        except queue.Empty:
            break
        out.append([second, t, wall])
grabber.stop()
print(json.dumps(out), flush=True)
"""

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="needs gcc")


def _frames_across_steps(tmp_path: Path, kind: str, source: Path) -> list[list[float]]:
    """[second, frame t, wall] per frame the daemon's frame grabber handed on, over three one-second windows,
    the wall clock stepped back 10 min after the first and forward an hour after the second."""
    shift = WallClockShift(tmp_path / "clock")
    probe = subprocess.Popen([sys.executable, "-c", PROBE, kind, str(source)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, **shift.env(),
                                                                      "PYTHONPATH": str(REPO)}, cwd=REPO)
    assert probe.stdin is not None and probe.stdout is not None
    try:
        for offset in (-600.0, 3600.0):
            assert probe.stdout.readline().strip() == "step"
            shift.set(offset)
            probe.stdin.write("\n")
            probe.stdin.flush()
        frames = json.loads(probe.stdout.readline())
    finally:
        probe.stdin.close()
        probe.wait(30)
    assert probe.returncode == 0
    return frames


def _per_second(frames: list[list[float]]) -> list[int]:
    return [sum(1 for f in frames if f[0] == second) for second in range(3)]


@needs_gcc
def test_a_frame_directory_keeps_its_pace_across_wall_clock_steps(tmp_path: Path) -> None:
    directory = tmp_path / "frames"
    directory.mkdir()
    write_frames(directory, 60, step_s=0.1)  # 6 s of frames at 10 fps: the grabber goes on reading during the steps
    frames = _frames_across_steps(tmp_path, "dir", directory)
    counts = _per_second(frames)
    # about 10 a second before the steps, after the step back (no stall) and after the step forward (no flush)
    assert all(7 <= n <= 12 for n in counts), counts


@needs_gcc
def test_a_video_file_keeps_its_pace_and_stamps_wall_time_across_steps(tmp_path: Path) -> None:
    video = tmp_path / "shelf.avi"
    write_video(video, 60, fps=10.0)
    frames = _frames_across_steps(tmp_path, "video", video)
    counts = _per_second(frames)
    assert all(7 <= n <= 12 for n in counts), counts
    assert all(abs(t - wall) < 0.5 for _, t, wall in frames)  # stamped on the wall clock of the moment
