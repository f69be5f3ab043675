"""The object detector: preprocess a BGR frame into the model input, invoke, decode to `Detection`s.

The model runs in an `Interpreter` (the small interface below, which LiteRT's and tflite-runtime's
interpreters satisfy as they are; edge.hw.runtime builds one); everything around it is here: resize
or letterbox, BGR->RGB, the pixel->input lookup table, SSD / YOLO decoding, labels.

Preprocessing writes into preallocated buffers (resize, BGR->RGB and the pixel->input lookup table
each write into the next buffer), so `prepare()` can run on the grabber thread while `run()` invokes
the interpreter on the previous frame.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.config.detector import DetectorSection
from edge.errors import ModelError
from edge.hw import pixels
from edge.model import Detection
from edge.vision.decode import OutputTensor, RawDetection, decode_ssd, decode_yolo, guess_format
from edge.vision.geometry import Letterbox
from edge.vision.labels import load_labels

log = logging.getLogger(__name__)

LETTERBOX_GREY = 114
INPUT_RANGES = {"-1..1": (1 / 127.5, -1.0), "0..1": (1 / 255.0, 0.0), "0..255": (1.0, 0.0)}
BUFFERS = 3  # one being filled, one queued, one being invoked


class Interpreter(Protocol):
    """What the detector needs of a TFLite interpreter (allocated). Tensor details are dicts with at
    least `index`, `name`, `shape`, `dtype` and `quantization` (scale, zero point)."""

    def get_input_details(self) -> list[dict[str, Any]]: ...

    def get_output_details(self) -> list[dict[str, Any]]: ...

    def set_tensor(self, tensor_index: int, value: npt.NDArray[Any]) -> None: ...

    def invoke(self) -> None: ...

    def get_tensor(self, tensor_index: int) -> npt.NDArray[Any]: ...


@dataclass(slots=True)
class Prepared:
    tensor: npt.NDArray[Any]  # [1, h, w, 3] in the input dtype
    letterbox: Letterbox


class Detector:
    def __init__(self, interpreter: Interpreter, labels: dict[int, str | None], settings: DetectorSection) -> None:
        self.interpreter = interpreter
        self.labels = labels
        self.settings = settings
        inputs = interpreter.get_input_details()
        detail = inputs[0]
        shape = tuple(int(v) for v in detail["shape"])
        if len(inputs) != 1 or len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or min(shape) < 1:
            raise ModelError(
                f"model {settings.model}: input {[tuple(int(v) for v in d['shape']) for d in inputs]} is not one "
                "[1, height, width, 3] image (NHWC, RGB); is it an object detection model for TFLite?"
            )
        self.input_index = int(detail["index"])
        _, self.input_h, self.input_w, _ = shape
        self.input_dtype = np.dtype(detail["dtype"])
        self.outputs = interpreter.get_output_details()
        shapes = [tuple(int(v) for v in o["shape"]) for o in self.outputs]
        self.format = guess_format(shapes) if settings.format == "auto" else settings.format
        self.letterbox = self.format != "ssd"  # SSD was trained on plain resizes
        input_range = settings.input_range
        if input_range == "auto":
            input_range = "-1..1" if self.format == "ssd" else "0..1"
        self.lut = pixel_lut(input_range, self.input_dtype, detail.get("quantization", (0.0, 0)))
        self._lock = threading.Lock()
        # Input buffers are recycled: run() (or a dropped frame's release()) returns them to the pool.
        self._free = [self._new_buffer() for _ in range(BUFFERS)]
        self._resized = np.zeros((self.input_h, self.input_w, 3), np.uint8)
        self._rgb = np.zeros((self.input_h, self.input_w, 3), np.uint8)
        self._prepare_lock = threading.Lock()
        self.model_classes = model_class_count(self.format, shapes, interpreter)
        self.label_warning = label_coverage(labels, self.model_classes, settings.labels)  # its user says it
        self._unlabelled: set[int] = set()  # class ids seen without a label (warned once each)

    @classmethod
    def load(cls, settings: DetectorSection) -> Detector:
        """The configured model in the installed TFLite runtime, digests checked (ModelError with the fix)."""
        from edge.hw.runtime import load_interpreter, verify_sha256

        verify_sha256(settings.model, settings.model_sha256, "model")
        verify_sha256(settings.labels, settings.labels_sha256, "label file")
        labels = load_labels(settings.labels, settings.label_offset)
        return cls(load_interpreter(settings.model, settings.threads, settings.edgetpu), labels, settings)

    @classmethod
    def from_files(cls, model: Path, labels: Path, **overrides: Any) -> Detector:
        return cls.load(DetectorSection(model=model, labels=labels, **overrides))

    def prepare(self, frame_bgr: npt.NDArray[np.uint8]) -> Prepared:
        """Resize (plain for SSD, letterbox for YOLO), BGR->RGB, map pixels to the input's values."""
        frame_h, frame_w = frame_bgr.shape[:2]
        with self._prepare_lock:
            target = self._free.pop() if self._free else self._new_buffer()
            if self.letterbox:
                box = Letterbox.fit(frame_w, frame_h, self.input_w, self.input_h)
                new_w, new_h = round(frame_w * box.scale_x), round(frame_h * box.scale_y)
                x0, y0 = int(box.pad_x), int(box.pad_y)
                self._resized[:] = LETTERBOX_GREY
                pixels.resize_into(frame_bgr, self._resized[y0 : y0 + new_h, x0 : x0 + new_w], "linear")
            else:
                box = Letterbox.stretch(frame_w, frame_h, self.input_w, self.input_h)
                pixels.resize_into(frame_bgr, self._resized, self.settings.resize)
            if self.lut is None:
                pixels.bgr_to_rgb(self._resized, target[0])
            else:
                pixels.bgr_to_rgb(self._resized, self._rgb)
                pixels.apply_lut(self._rgb, self.lut, target[0])
            return Prepared(target, box)

    def release(self, prepared: Prepared) -> None:
        """Give a prepared input's buffer back to the pool (run() does this itself)."""
        with self._prepare_lock:
            if len(self._free) < BUFFERS:
                self._free.append(prepared.tensor)

    def invoke(self, tensor: npt.NDArray[Any]) -> list[OutputTensor]:
        with self._lock:
            self.interpreter.set_tensor(self.input_index, tensor)
            self.interpreter.invoke()
            return [
                OutputTensor(o["name"], self.interpreter.get_tensor(o["index"]), *_quantization(o))
                for o in self.outputs
            ]

    def run(self, prepared: Prepared, threshold: float | None = None) -> list[Detection]:
        threshold = self.settings.score_threshold if threshold is None else threshold
        try:
            outputs = self.invoke(prepared.tensor)
        finally:
            self.release(prepared)
        raw = self._decode(outputs, threshold)
        detections = []
        for item in raw[: self.settings.max_detections]:
            label = self.labels.get(item.class_id, f"class{item.class_id}")  # beyond the file: still reported
            if label is None:  # an 'n/a' id: not a real class
                continue
            if item.class_id not in self.labels and item.class_id not in self._unlabelled:
                self._unlabelled.add(item.class_id)
                log.warning("label file %s has no line for class %d; reported as %r", self.settings.labels,
                            item.class_id, label)
            box = prepared.letterbox.to_frame(item.box)
            detections.append(Detection(label, item.class_id, round(item.score, 4), box))
        return detections

    def detect(self, frame_bgr: npt.NDArray[np.uint8], threshold: float | None = None) -> list[Detection]:
        return self.run(self.prepare(frame_bgr), threshold)

    def _new_buffer(self) -> npt.NDArray[Any]:
        return np.zeros((1, self.input_h, self.input_w, 3), self.input_dtype)

    def _decode(self, outputs: list[OutputTensor], threshold: float) -> list[RawDetection]:
        if self.format == "ssd":
            return decode_ssd(outputs, self.input_w, self.input_h, threshold)
        return decode_yolo(
            outputs[0],
            self.format,
            self.input_w,
            self.input_h,
            threshold,
            self.settings.iou_threshold,
            self.settings.max_detections,
            self.settings.yolo_box_units,
        )


def detection_to_json(detection: Detection) -> dict[str, Any]:
    """One detection as the technician commands print it (`detect --json`, `camera snapshot --json`)."""
    return {"label": detection.label, "class_id": detection.class_id, "score": detection.score,
            "box": list(detection.box)}


def model_class_count(layout: str, shapes: Sequence[tuple[int, ...]], interpreter: Interpreter) -> int | None:
    """How many classes the model scores, when its tensors tell: YOLO from its output's class columns;
    SSD from the score tensor feeding the post-process, [1, anchors, classes + background], found beside
    the [1, anchors, 4] box tensor among all tensors (an interpreter that lists them). Else None."""
    if layout == "yolov5":
        return shapes[0][2] - 5
    if layout == "yolov8":
        return shapes[0][1] - 4
    details = getattr(interpreter, "get_tensor_details", None)
    if details is None:
        return None
    ranked = [tuple(int(v) for v in d["shape"]) for d in details()]
    anchors = {s[1] for s in ranked if len(s) == 3 and s[2] == 4 and s[1] > 10}
    scores = [s[2] for s in ranked if len(s) == 3 and s[1] in anchors and s[2] > 4]
    return max(scores) - 1 if scores else None


def label_coverage(labels: dict[int, str | None], model_classes: int | None, path: Path) -> str | None:
    """A warning when the label file names fewer (or more) classes than the model scores, else None."""
    if model_classes is None or not labels:
        return None
    named = max(labels) + 1  # lines for classes 0 .. named - 1 ('n/a' lines included)
    if named < model_classes:
        return (f"label file {path} covers classes 0-{named - 1}, the model has {model_classes} classes: classes "
                f"{named}-{model_classes - 1} will be reported as 'class<N>'; use the label file that came with "
                "the model (or fix [detector] label_offset)")
    if named > model_classes:
        return (f"label file {path} has lines for {named} classes, the model has {model_classes}: is it the "
                "model's own label file, and is [detector] label_offset right?")
    return None


def _quantization(detail: dict[str, Any]) -> tuple[float, int]:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero_point)


def pixel_lut(input_range: str, dtype: np.dtype[Any], quantization: tuple[float, int]) -> npt.NDArray[Any] | None:
    """256-entry table pixel -> input value (quantized with the input's scale/zero point), or None if identity."""
    gain, offset = INPUT_RANGES[input_range]
    real = np.arange(256, dtype=np.float64) * gain + offset
    if np.issubdtype(dtype, np.floating):
        return real.astype(dtype)
    scale, zero_point = quantization
    if not scale:  # unquantized integer input: feed pixels as they are
        return None if dtype == np.uint8 else np.arange(256).astype(dtype)
    info = np.iinfo(dtype)
    table = np.clip(np.round(real / scale + zero_point), info.min, info.max).astype(dtype)
    if dtype == np.uint8 and int(np.max(np.abs(table.astype(np.int32) - np.arange(256)))) <= 1:
        return None  # e.g. SSD MobileNet: (scale 1/128, zero 128) over -1..1 is the pixel itself
    return table
