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


class ColourInterpreter(FakeInterpreter):
    """A fake 'model' that looks at what it is fed, like a real one: for each class it reports the box around
    the input pixels of that class's RGB colour (within `tolerance` per channel), when there are at least
    `min_pixels` of them; an object too small in the input is missed, as the SSD misses small items."""

    def __init__(self, colours: dict[int, tuple[int, int, int]], min_pixels: int = 60, tolerance: int = 40,
                 input_shape: tuple[int, ...] = (1, 100, 100, 3)) -> None:
        self.colours = colours
        self.min_pixels = min_pixels
        self.tolerance = tolerance
        slots = len(colours)
        super().__init__(ssd_outputs([[0.0, 0.0, 0.0, 0.0]] * slots, [0] * slots, [0.0] * slots),
                         input_shape=input_shape)

    def invoke(self) -> None:
        super().invoke()
        assert self.fed is not None
        pixels = self.fed[0].astype(np.int16)
        height, width = pixels.shape[:2]
        boxes, classes, scores = [], [], []
        for class_id, colour in self.colours.items():
            mask = np.all(np.abs(pixels - np.array(colour, np.int16)) <= self.tolerance, axis=2)
            if np.count_nonzero(mask) < self.min_pixels:
                continue
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            boxes.append([rows[0] / height, cols[0] / width, (rows[-1] + 1) / height, (cols[-1] + 1) / width])
            classes.append(class_id)
            scores.append(0.9)
        slots = len(self.colours)
        padding = slots - len(boxes)
        self.outputs = ssd_outputs(boxes + [[0.0] * 4] * padding, classes + [0] * padding, scores + [0.0] * padding)
        self.outputs[3] = (self.outputs[3][0], np.array([len(boxes)], np.float32))


HAND_RGB, BANANA_RGB = (0, 0, 255), (255, 220, 0)  # a blue glove, a yellow banana


def colour_detector(min_pixels: int = 60) -> Any:
    """A Detector over a ColourInterpreter: blue is the hand ("person"), yellow a banana."""
    from pathlib import Path

    from edge.config.detector import DetectorSection
    from edge.vision.detector import Detector

    interpreter = ColourInterpreter({0: HAND_RGB, 2: BANANA_RGB}, min_pixels)
    return Detector(interpreter, LABELS, DetectorSection(model=Path("fake.tflite"), labels=Path("l.txt")))
