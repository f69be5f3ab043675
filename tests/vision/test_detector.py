"""The detector's pre- and post-processing over the small Interpreter interface: a fake interpreter that
records what it was fed and answers with known tensors (runs everywhere); the real model for the
class count, the label-coverage warning and TF label maps; [detector] config errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.config import parse_config
from edge.config.detector import DetectorSection
from edge.errors import ConfigError, ModelError
from edge.hw.draw import read_image
from edge.model import Detection
from edge.vision.detector import Detector, Interpreter, label_coverage

from .fakes import LABELS, FakeInterpreter, ssd_outputs

PHOTO = "grocery-store/Fruit_Banana_Banana_012.jpg"


def settings(**values: Any) -> DetectorSection:
    return DetectorSection(model=Path("fake.tflite"), labels=Path("fake-labels.txt"), **values)


def test_fake_interpreter_satisfies_the_interface() -> None:
    interpreter: Interpreter = FakeInterpreter(ssd_outputs([[0, 0, 1, 1]], [0], [0.9]))
    assert interpreter.get_input_details()[0]["index"] == 0


def test_ssd_frame_is_resized_to_the_input_and_boxes_come_back_in_frame_pixels() -> None:
    # ymin, xmin, ymax, xmax normalised: a box over the left half, top quarter of the frame
    fake = FakeInterpreter(ssd_outputs([[0.0, 0.0, 0.25, 0.5], [0, 0, 1, 1], [0, 0, 1, 1]], [2, 1, 0], [0.8, 0.9, 0.2]))
    detector = Detector(fake, LABELS, settings())
    frame = np.zeros((200, 400, 3), np.uint8)
    frame[:, :200] = (255, 0, 0)  # blue (BGR) on the left half
    detections = detector.detect(frame)
    # class 1 is 'n/a' (dropped), 0.2 is below the default threshold
    assert detections == [Detection("banana", 2, 0.8, (0, 0, 200, 50))]
    assert fake.fed is not None and fake.fed.shape == (1, 100, 100, 3) and fake.invokes == 1
    assert tuple(fake.fed[0, 50, 10]) == (0, 0, 255)  # BGR -> RGB: the blue half is blue in RGB order
    assert tuple(fake.fed[0, 50, 90]) == (0, 0, 0)


def test_yolo_frame_is_letterboxed_and_the_padding_undone() -> None:
    # yolov8 [1, 4 + C, N] with C = 3 classes, N = 20 anchors; one confident box in input pixels
    table = np.zeros((1, 7, 20), np.float32)
    table[0, :4, 0] = (50, 50, 40, 20)  # cx, cy, w, h in the 100x100 input
    table[0, 4 + 2, 0] = 0.9  # class 2
    fake = FakeInterpreter([("output0", table)])
    detector = Detector(fake, LABELS, settings(yolo_box_units="pixels"))
    assert detector.format == "yolov8" and detector.model_classes == 3 and detector.label_warning is None
    frame = np.full((100, 200, 3), 200, np.uint8)  # 2:1 -> scaled to 100x50, padded 25 rows top and bottom
    [found] = detector.detect(frame)
    assert found.label == "banana" and found.box == (60, 30, 140, 70)
    assert fake.fed is not None
    grey, pixel = (114, 200) if detector.lut is None else (detector.lut[114], detector.lut[200])
    assert (fake.fed[0, :25] == grey).all() and (fake.fed[0, 75:] == grey).all()  # letterbox padding
    assert (fake.fed[0, 30:70] == pixel).all()


@pytest.mark.parametrize("shape", [(1, 3, 300, 300), (1, 300, 300), (1, 300, 300, 1), (2, 300, 300, 3)])
def test_a_model_whose_input_is_not_one_rgb_image_is_refused_in_words(shape: tuple[int, ...]) -> None:
    fake = FakeInterpreter(ssd_outputs([[0, 0, 1, 1]], [0], [0.9]), input_shape=shape)
    with pytest.raises(ModelError, match=r"fake\.tflite: input \[\(.*\)\] is not one \[1, height, width, 3\] image"):
        Detector(fake, LABELS, settings())


def test_ssd_with_a_single_detection_slot_is_recognised() -> None:
    """classes and scores [1, 1] hold one value, like the count [1]: the count is the rank-1 one."""
    fake = FakeInterpreter(ssd_outputs([[0.0, 0.0, 0.5, 0.5]], [0], [0.7]))
    assert [d.label for d in Detector(fake, LABELS, settings()).detect(np.zeros((80, 80, 3), np.uint8))] == ["person"]


def test_ssd_class_count_is_read_from_the_score_tensor_and_a_short_label_file_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeInterpreter(ssd_outputs([[0, 0, 1, 1], [0, 0, 1, 1]], [5, 0], [0.9, 0.1]),
                           extra=[(1, 1917, 4), (1, 1917, 8)])
    with caplog.at_level(logging.WARNING, "edge.vision.detector"):
        detector = Detector(fake, LABELS, settings())
        assert detector.model_classes == 7  # 8 columns = 7 classes + background
        assert detector.label_warning is not None and "covers classes 0-2, the model has 7" in detector.label_warning
        [found] = detector.detect(np.zeros((50, 50, 3), np.uint8))
        detector.detect(np.zeros((50, 50, 3), np.uint8))
    assert found.label == "class5"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("no line for class 5" in m for m in messages) == 1  # warned once, not per frame


def test_label_coverage_wording() -> None:
    assert label_coverage({i: "x" for i in range(90)}, 90, Path("l.txt")) is None
    assert label_coverage({i: "x" for i in range(90)}, None, Path("l.txt")) is None
    more = label_coverage({i: "x" for i in range(91)}, 90, Path("l.txt"))
    assert more is not None and "label_offset" in more


def test_real_model_has_90_classes_which_the_shared_labels_cover(shared_model_dir: Path, tmp_path: Path) -> None:
    model, labels = shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt"
    detector = Detector.from_files(model, labels)
    assert detector.model_classes == 90 and detector.label_warning is None
    short = tmp_path / "labels80.txt"
    short.write_text("\n".join(labels.read_text().splitlines()[:80]) + "\n")
    warning = Detector.from_files(model, short).label_warning
    assert warning is not None and "covers classes 0-79, the model has 90 classes" in warning


def test_tf_labelmap_with_placeholder_line_gives_the_same_labels(
    shared_model_dir: Path, shared_images_dir: Path, tmp_path: Path
) -> None:
    coco = (shared_model_dir / "coco_labels.txt").read_text()
    (tmp_path / "labelmap.txt").write_text("???\n" + coco)
    frame = read_image(shared_images_dir / PHOTO)
    plain = Detector.from_files(shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt")
    tf_map = Detector.from_files(shared_model_dir / "detect.tflite", tmp_path / "labelmap.txt")
    assert [d.label for d in tf_map.detect(frame)] == [d.label for d in plain.detect(frame)]
    assert tf_map.detect(frame)[0].label == "banana"
    shifted = Detector.from_files(shared_model_dir / "detect.tflite", tmp_path / "labelmap.txt", label_offset=0)
    assert shifted.detect(frame)[0].label != "banana"  # the off-by-one a wrong offset causes


def test_bad_detector_and_camera_config_values_are_located() -> None:
    text = """
[node]
store_id = "s"
node_id = "n"
[serial]
port = "loop://"
[[plates]]
name = "p1"
channels = [0]
[camera]
source = "0"
idle_fps = 5
active_fps = 2
[detector]
model = "m.tflite"
labels = "l.txt"
model_sha256 = "abc"
format = "yolov9"
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    problems = "\n".join(caught.value.problems)
    assert "detector.model_sha256: must be a 64-character hex sha256" in problems
    assert "detector.format" in problems and "yolov8" in problems
    assert "camera.active_fps: must be at least idle_fps" in problems or "camera: active_fps" in problems
