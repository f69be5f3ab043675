"""Loading a model into the TFLite runtime (edge/hw/runtime.py, through Detector.load): digests, missing
files and non-models, no runtime installed, Edge TPU without its delegate; all with the real model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge.errors import ModelError
from edge.hw.model_fetch import DETECT_SHA256
from edge.vision.detector import Detector


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
