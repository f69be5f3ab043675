"""The object detector: preprocess a BGR frame into the model input, invoke, decode to `Detection`s.

Preprocessing writes into preallocated buffers (resize, BGR->RGB and the pixel->input lookup table
each write into the next buffer), so `prepare()` can run on the capture thread while `run()` invokes
the interpreter on the previous frame.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.config.detector import DetectorSection
from edge.hw.runtime import load_interpreter, verify_sha256
from edge.model import Detection
from edge.vision.decode import OutputTensor, RawDetection, decode_ssd, decode_yolo, guess_format
from edge.vision.geometry import Letterbox
from edge.vision.labels import load_labels

LETTERBOX_GREY = 114
INPUT_RANGES = {"-1..1": (1 / 127.5, -1.0), "0..1": (1 / 255.0, 0.0), "0..255": (1.0, 0.0)}
BUFFERS = 3  # one being filled, one queued, one being invoked


@dataclass(slots=True)
class Prepared:
    tensor: npt.NDArray[Any]  # [1, h, w, 3] in the input dtype
    letterbox: Letterbox


class Detector:
    def __init__(self, interpreter: Any, labels: dict[int, str | None], settings: DetectorSection) -> None:
        self.interpreter = interpreter
        self.labels = labels
        self.settings = settings
        detail = interpreter.get_input_details()[0]
        self.input_index = int(detail["index"])
        _, self.input_h, self.input_w, _ = (int(v) for v in detail["shape"])
        self.input_dtype = np.dtype(detail["dtype"])
        self.outputs = interpreter.get_output_details()
        shapes = [tuple(int(v) for v in o["shape"]) for o in self.outputs]
        self.format = guess_format(shapes) if settings.format == "auto" else settings.format
        self.letterbox = self.format != "ssd"  # SSD was trained on plain resizes
        input_range = settings.input_range
        if input_range == "auto":
            input_range = "-1..1" if self.format == "ssd" else "0..1"
        self.lut = _pixel_lut(input_range, self.input_dtype, detail.get("quantization", (0.0, 0)))
        self._lock = threading.Lock()
        # Input buffers are recycled: run() (or a dropped frame's release()) returns them to the pool.
        self._free = [self._new_buffer() for _ in range(BUFFERS)]
        self._resized = np.zeros((self.input_h, self.input_w, 3), np.uint8)
        self._rgb = np.zeros((self.input_h, self.input_w, 3), np.uint8)
        self._prepare_lock = threading.Lock()

    @classmethod
    def load(cls, settings: DetectorSection) -> Detector:
        verify_sha256(settings.model, settings.model_sha256, "model")
        verify_sha256(settings.labels, settings.labels_sha256, "label file")
        labels = load_labels(settings.labels, settings.label_offset)
        return cls(load_interpreter(settings.model, settings.threads, settings.edgetpu), labels, settings)

    @classmethod
    def from_files(cls, model: Path, labels: Path, **overrides: Any) -> Detector:
        return cls.load(DetectorSection(model=model, labels=labels, **overrides))

    def prepare(self, frame_bgr: npt.NDArray[np.uint8]) -> Prepared:
        """Resize (plain for SSD, letterbox for YOLO), BGR->RGB, map pixels to the input's values."""
        import cv2

        frame_h, frame_w = frame_bgr.shape[:2]
        with self._prepare_lock:
            target = self._free.pop() if self._free else self._new_buffer()
            if self.letterbox:
                box = Letterbox.fit(frame_w, frame_h, self.input_w, self.input_h)
                new_w, new_h = round(frame_w * box.scale_x), round(frame_h * box.scale_y)
                x0, y0 = int(box.pad_x), int(box.pad_y)
                self._resized[:] = LETTERBOX_GREY
                self._resized[y0 : y0 + new_h, x0 : x0 + new_w] = cv2.resize(
                    frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR
                )
            else:
                box = Letterbox.stretch(frame_w, frame_h, self.input_w, self.input_h)
                interpolation = cv2.INTER_AREA if self.settings.resize == "area" else cv2.INTER_LINEAR
                cv2.resize(frame_bgr, (self.input_w, self.input_h), dst=self._resized, interpolation=interpolation)
            if self.lut is None:
                cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=target[0])
            else:
                cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=self._rgb)
                cv2.LUT(self._rgb, self.lut, dst=target[0])
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


def _quantization(detail: dict[str, Any]) -> tuple[float, int]:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero_point)


def _pixel_lut(input_range: str, dtype: np.dtype[Any], quantization: tuple[float, int]) -> npt.NDArray[Any] | None:
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
