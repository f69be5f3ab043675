"""A fake TFLite interpreter for the detector and the vision service: it satisfies
edge.vision.detector.Interpreter, records what it was fed and answers with tensors the test sets."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

LABELS: dict[int, str | None] = {0: "person", 1: None, 2: "banana"}


class FakeInterpreter:
    """An allocated 'model' with a uint8 input (default [1, 100, 100, 3]) whose outputs are set by the test;
    keeps the last input tensor it was given."""

    def __init__(self, outputs: list[tuple[str, npt.NDArray[Any]]], extra: list[tuple[int, ...]] = (),
                 input_shape: tuple[int, ...] = (1, 100, 100, 3)) -> None:
        self.outputs = outputs
        self.input_shape = input_shape
        self.extra = extra  # shapes of inner tensors, for get_tensor_details
        self.fed: npt.NDArray[Any] | None = None
        self.invokes = 0

    def get_input_details(self) -> list[dict[str, Any]]:
        return [{"index": 0, "name": "input", "shape": np.array(self.input_shape), "dtype": np.uint8,
                 "quantization": (0.0078125, 128)}]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [{"index": i + 1, "name": name, "shape": np.array(values.shape), "dtype": values.dtype,
                 "quantization": (0.0, 0)} for i, (name, values) in enumerate(self.outputs)]

    def get_tensor_details(self) -> list[dict[str, Any]]:
        return self.get_input_details() + self.get_output_details() + [
            {"index": 100 + i, "name": f"inner{i}", "shape": np.array(shape)} for i, shape in enumerate(self.extra)]

    def set_tensor(self, tensor_index: int, value: npt.NDArray[Any]) -> None:
        assert tensor_index == 0
        self.fed = value.copy()

    def invoke(self) -> None:
        self.invokes += 1

    def get_tensor(self, tensor_index: int) -> npt.NDArray[Any]:
        return self.outputs[tensor_index - 1][1]


def ssd_outputs(boxes: list[list[float]], classes: list[int], scores: list[float]) -> list[tuple[str, Any]]:
    n = len(boxes)
    return [
        ("TFLite_Detection_PostProcess", np.array([boxes], np.float32)),
        ("TFLite_Detection_PostProcess:1", np.array([classes], np.float32)),
        ("TFLite_Detection_PostProcess:2", np.array([scores], np.float32)),
        ("TFLite_Detection_PostProcess:3", np.array([n], np.float32)),
    ]


def banana_detector(box: list[float] | None = None, score: float = 0.9) -> Any:
    """A Detector over a FakeInterpreter that sees one banana (default: on the left half of the frame)."""
    from pathlib import Path

    from edge.config.detector import DetectorSection
    from edge.vision.detector import Detector

    outputs = ssd_outputs([box or [0.1, 0.1, 0.9, 0.4]], [2], [score])
    return Detector(FakeInterpreter(outputs), LABELS, DetectorSection(model=Path("fake.tflite"), labels=Path("l.txt")))
