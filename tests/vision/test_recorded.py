"""RecordedCamera: recorded frames through the vision service's ring, detector and evidence on a clock the caller
gives. Only frames the live ring would hold at that time count (none newer, none older than buffer_s); the
camera is down when frames stop for dropout_s, also when it was lost during the event and is back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from edge.config.camera import CameraSection
from edge.config.detector import DetectorSection
from edge.config.weighing import WeighingSection
from edge.errors import CameraError
from edge.hw.draw import encode_jpeg
from edge.hw.frames import JpegFrame
from edge.model import PlateRegion
from edge.vision.detector import Detector
from edge.vision.recorded import FrameDirectory, RecordedCamera
from edge.vision.ring import Undecoded
from tests.vision.fakes import FakeInterpreter, ssd_outputs

T0 = 1_767_225_600_000  # unix ms
LEFT, RIGHT = PlateRegion("p1", ((0, 0), (50, 0), (50, 100), (0, 100))), PlateRegion("p2", ((50, 0), (100, 0),
                                                                                              (100, 100), (50, 100)))


class Frames:
    """In-memory frames, one JPEG per time; remembers which were loaded."""

    def __init__(self, times: Sequence[int]) -> None:
        self.times = list(times)
        self.jpeg = np.frombuffer(encode_jpeg(np.full((100, 100, 3), 120, np.uint8), 80), np.uint8)
        self.loaded: list[int] = []

    def times_ms(self) -> Sequence[int]:
        return self.times

    def load(self, ms: int) -> Undecoded:
        self.loaded.append(ms)
        return JpegFrame(self.jpeg, f"{ms}.jpg")


def orange_on_the_left() -> tuple[Detector, FakeInterpreter]:
    interpreter = FakeInterpreter(ssd_outputs([[0.2, 0.05, 0.8, 0.4]], [1], [0.8]))
    labels: dict[int, str | None] = {0: "person", 1: "orange"}
    return Detector(interpreter, labels, DetectorSection(model=Path("fake.tflite"), labels=Path("l.txt"))), interpreter


def camera(times: Sequence[int], **settings: float) -> tuple[RecordedCamera, Frames, FakeInterpreter]:
    frames = Frames(times)
    detector, interpreter = orange_on_the_left()
    section = CameraSection(source="recorded", **settings)  # type: ignore[arg-type]
    return RecordedCamera(frames, section, detector, [LEFT, RIGHT]), frames, interpreter


def test_only_frames_up_to_the_clock_and_within_the_look_back_are_used() -> None:
    rec, frames, interpreter = camera(range(T0, T0 + 10_000, 100), buffer_s=4.0)
    rec.advance((T0 + 5_000) / 1000)
    assert frames.loaded[-1] == T0 + 5_000  # nothing newer than the clock was even read
    evidence = rec.evidence(T0 / 1000, (T0 + 9_000) / 1000)
    assert evidence["p1"].frames == 41  # 1.0 .. 5.0 s: the older frames left the 4 s ring
    assert evidence["p1"].labels == {"orange": (0.8, pytest.approx(0.8))}
    assert "orange" not in evidence["p2"].labels
    assert interpreter.invokes == 41
    rec.evidence(T0 / 1000, (T0 + 9_000) / 1000)
    assert interpreter.invokes == 41  # frames already analysed keep their detections, as in the ring


def test_the_default_ring_still_holds_a_heavy_put_when_the_weigher_emits_it_after_its_hold() -> None:
    # A put above [weighing] hold_above_g is emitted hold_s after it settled (docs/weighing.md); its evidence
    # window (a second either side of a 6 s restock) must still be in the ring then. A 4 s ring held none of it.
    hold_s = WeighingSection().hold_s
    rec, _, _ = camera(range(T0, T0 + 30_000, 100))  # every [camera] default
    t_start, t_end = T0 / 1000 + 2.0, T0 / 1000 + 8.0
    rec.advance(t_end + hold_s + 0.4)
    evidence = rec.evidence(t_start - 1.0, t_end + 1.0)
    assert evidence["p1"].frames == 81  # 1.0 .. 9.0 s at 10 fps: every frame of the window
    assert evidence["p1"].labels == {"orange": (0.8, pytest.approx(0.8))}


def test_the_ring_is_also_bounded_by_frame_count_and_bytes() -> None:
    rec, frames, _ = camera(range(T0, T0 + 4_000, 10), buffer_s=30.0, buffer_max_mb=0.001)
    rec.advance((T0 + 4_000) / 1000)
    kept = rec.evidence(T0 / 1000, (T0 + 4_000) / 1000)["p1"].frames
    assert 1 <= kept < 400 and kept * frames.jpeg.nbytes <= 1024 + frames.jpeg.nbytes


def test_camera_ok_as_the_grabber_says_and_lost_during_an_event() -> None:
    times = [*range(T0, T0 + 5_000, 100), *range(T0 + 12_000, T0 + 20_000, 100)]  # lost 5 .. 12 s
    rec, _, _ = camera(times, dropout_s=5.0)
    assert not rec.camera_ok(T0 / 1000 - 1)  # before the first frame
    rec.advance((T0 + 4_000) / 1000)
    assert rec.camera_ok((T0 + 4_000) / 1000)
    assert not rec.lost_during((T0 + 2_000) / 1000, (T0 + 4_000) / 1000)
    rec.advance((T0 + 9_000) / 1000)
    assert rec.camera_ok((T0 + 9_000) / 1000)  # 4.9 s without a frame: the grabber has not noticed yet
    assert rec.lost_during((T0 + 4_000) / 1000, (T0 + 6_500) / 1000)  # but the event lost its frames
    rec.advance((T0 + 11_000) / 1000)
    assert not rec.camera_ok((T0 + 11_000) / 1000)  # no frame for 6 s
    rec.advance((T0 + 13_000) / 1000)
    assert rec.camera_ok((T0 + 13_000) / 1000)
    assert rec.lost_during((T0 + 4_000) / 1000, (T0 + 13_000) / 1000)  # back, but lost during the event
    assert not rec.lost_during((T0 + 12_000) / 1000, (T0 + 13_000) / 1000)
    rec.advance((T0 + 40_000) / 1000)
    assert not rec.camera_ok((T0 + 40_000) / 1000)  # the recording ended


def test_a_frame_directory_and_its_bad_files(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="not found"):
        FrameDirectory(tmp_path / "missing")
    directory = tmp_path / "frames"
    directory.mkdir()
    good = encode_jpeg(np.full((100, 100, 3), 100, np.uint8), 80)
    (directory / f"{T0}.jpg").write_bytes(good)
    (directory / f"{T0 + 100}.jpg").write_bytes(good[:50])  # cut short
    (directory / "notes.txt").write_text("x")
    (directory / f".{T0 + 200}.jpg.tmp").write_bytes(good)  # a writer's temporary
    frames = FrameDirectory(directory)
    assert list(frames.times_ms()) == [T0, T0 + 100]
    detector, _ = orange_on_the_left()
    rec = RecordedCamera(frames, CameraSection(source=str(directory)), detector, [LEFT, RIGHT])
    rec.advance((T0 + 1_000) / 1000)
    evidence = rec.evidence(T0 / 1000, (T0 + 1_000) / 1000)
    assert evidence["p1"].frames == 1 and rec.stats().bad_frames == 1  # counted, never a crash
