"""Reading the detector backbone's activations after invoke (LiteRT keeps intermediate tensors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.errors import ModelError
from edge.hw.features import find_tap
from edge.hw.runtime import load_interpreter


def _invoke(interpreter: object) -> None:
    detail = interpreter.get_input_details()[0]  # type: ignore[attr-defined]
    image = np.random.default_rng(1).integers(0, 255, detail["shape"], dtype=np.uint8)
    interpreter.set_tensor(detail["index"], image)  # type: ignore[attr-defined]
    interpreter.invoke()  # type: ignore[attr-defined]


def test_last_backbone_block_is_readable(shared_model_dir: Path) -> None:
    interpreter = load_interpreter(shared_model_dir / "detect.tflite", keep_intermediates=True)
    tap = find_tap(interpreter)
    assert tap.shape == (1, 10, 10, 768) and "Conv2d_13_pointwise" in tap.name
    _invoke(interpreter)
    first = tap.read(interpreter)
    assert first.shape == (10, 10, 768) and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 6.1 and first.max() > 0  # ReLU6 activations, dequantised
    _invoke(interpreter)
    assert np.array_equal(first, tap.read(interpreter))  # deterministic


def test_without_keeping_intermediates_the_read_says_how_to_fix(shared_model_dir: Path) -> None:
    interpreter = load_interpreter(shared_model_dir / "detect.tflite")
    tap = find_tap(interpreter)
    _invoke(interpreter)
    with pytest.raises(ModelError, match="keep_intermediates"):
        tap.read(interpreter)


def test_unknown_tensor_names_what_there_is(shared_model_dir: Path) -> None:
    interpreter = load_interpreter(shared_model_dir / "detect.tflite", keep_intermediates=True)
    with pytest.raises(ModelError, match="pointwise"):
        find_tap(interpreter, "no_such_layer/Relu6")
