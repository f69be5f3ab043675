"""Loading the detector: digests, runtimes, Edge TPU, TF label maps, config errors; all with the real model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge.config import parse_config
from edge.errors import ConfigError, ModelError
from edge.hw.draw import read_image
from edge.hw.model_fetch import DETECT_SHA256
from edge.vision.detector import Detector

PHOTO = "grocery-store/Fruit_Banana_Banana_012.jpg"


def test_matching_digest_loads_and_wrong_digest_is_refused(shared_model_dir: Path) -> None:
    model, labels = shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt"
    assert Detector.from_files(model, labels, model_sha256=DETECT_SHA256).format == "ssd"
    with pytest.raises(ModelError, match=r"sha256 is e4b118e5.*config expects 0000"):
        Detector.from_files(model, labels, model_sha256="0" * 64)


def test_missing_files_and_non_models_are_named(shared_model_dir: Path, tmp_path: Path) -> None:
    labels = shared_model_dir / "coco_labels.txt"
    with pytest.raises(ModelError, match="file not found; fix \\[detector\\] or run scripts/get-model"):
        Detector.from_files(tmp_path / "absent.tflite", labels)
    (tmp_path / "junk.tflite").write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        Detector.from_files(tmp_path / "junk.tflite", labels)


# LiteRT's Delegate.__del__ trips over its own failed __init__ (AttributeError _library); harmless, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_edgetpu_without_the_delegate_is_a_clear_error(shared_model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"libedgetpu\.so\.1.*edgetpu = false"):
        Detector.from_files(shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt", edgetpu=True)


def test_no_runtime_installed_says_what_to_install(shared_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, name, None)  # import of these now raises ImportError
    with pytest.raises(ModelError, match="pip install ai-edge-litert"):
        Detector.from_files(shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt")


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
