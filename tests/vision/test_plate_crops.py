"""Detecting on a window around a plate: the window lies inside the frame and covers the plate, and its
detections come back in frame pixels, where the plate regions assign them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.config.camera import CameraSection
from edge.config.detector import DetectorSection
from edge.hw.draw import encode_jpeg
from edge.model import PlateRegion
from edge.vision.detector import Detector
from edge.vision.plate_crops import crop_window, detect_in_window
from edge.vision.recorded import RecordedCamera
from tests.vision.fakes import FakeInterpreter, ssd_outputs
from tests.vision.test_recorded import T0, Frames

LEFT = PlateRegion("p1", ((20, 200), (160, 200), (160, 360), (20, 360)))
RIGHT = PlateRegion("p2", ((480, 200), (620, 200), (620, 360), (480, 360)))


def test_the_window_covers_the_plate_inside_the_frame() -> None:
    assert crop_window(LEFT, 640, 480, 2.0, 300) == (0, 120, 320, 440)  # 2 x 160, moved inside at the left
    x0, y0, x1, y1 = crop_window(RIGHT, 640, 480, 1.0, 300)
    assert (x1 - x0, y1 - y0) == (300, 300) and x1 <= 640 and x0 <= 480 and x1 >= 620  # at least the input
    assert crop_window(LEFT, 640, 480, 4.0, 300) == (0, 0, 480, 480)  # never more than the frame


def test_window_detections_come_back_in_frame_pixels() -> None:
    interpreter = FakeInterpreter(ssd_outputs([[0.5, 0.25, 1.0, 0.75]], [1], [0.9]))
    detector = Detector(interpreter, {0: "person", 1: "orange"}, DetectorSection(model=Path("f"), labels=Path("l")))
    image = np.zeros((480, 640, 3), np.uint8)
    (found,) = detect_in_window(detector, image, (100, 100, 300, 300))
    assert found.label == "orange" and found.box == (150, 200, 250, 300)


def test_recorded_camera_adds_the_touched_plates_windows() -> None:
    # the fake sees an orange in the middle of whatever it is shown: on the whole frame that is between the
    # plates (no plate), in the window around p1 it is on p1
    interpreter = FakeInterpreter(ssd_outputs([[0.4, 0.4, 0.6, 0.6]], [1], [0.9]))
    detector = Detector(interpreter, {0: "person", 1: "orange"}, DetectorSection(model=Path("f"), labels=Path("l")))
    frames = Frames(range(T0, T0 + 1000, 100))
    frames.jpeg = np.frombuffer(encode_jpeg(np.full((480, 640, 3), 90, np.uint8), 80), np.uint8)  # 640x480
    plain = RecordedCamera(frames, CameraSection(source="x"), detector, [LEFT, RIGHT])
    plain.advance(T0 / 1000 + 1)
    assert "orange" not in plain.evidence(T0 / 1000, T0 / 1000 + 1, {"p1"})["p1"].labels
    cropped = RecordedCamera(frames, CameraSection(source="x"), detector, [LEFT, RIGHT], crop_scale=1.0)
    cropped.advance(T0 / 1000 + 1)
    before = interpreter.invokes
    evidence = cropped.evidence(T0 / 1000, T0 / 1000 + 1, {"p1"})
    assert "orange" in evidence["p1"].labels and "orange" not in evidence["p2"].labels
    assert interpreter.invokes - before == 20  # each frame, and the window around p1 in it
    assert (cropped.stats().detected, cropped.stats().windows) == (10, 10)
    cropped.evidence(T0 / 1000, T0 / 1000 + 1, {"p1"})
    assert interpreter.invokes - before == 20
