"""[detector]: the quantized detection model and how to read its outputs. (Owner: vision.)"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edge.config.base import Section, problem_at

OutputFormat = Literal["auto", "ssd", "yolov5", "yolov8"]
InputRange = Literal["auto", "-1..1", "0..1", "0..255"]


class DetectorSection(Section):
    model: Path = Field(description="TFLite model file (e.g. detect.tflite from scripts/get-model).")
    labels: Path = Field(description="Label map: one label per line, 'n/a' lines are unused class ids.")
    model_sha256: str | None = Field(
        default=None, description="If set, the model file must have this sha256 (checked at load)."
    )
    labels_sha256: str | None = Field(default=None, description="If set, the label file must have this sha256.")
    label_offset: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Label line = class index + offset; unset = 1 when the first line is '???' (TF labelmap), else 0.",
    )
    threads: int = Field(default=1, ge=1, le=8, description="Interpreter CPU threads.")
    edgetpu: bool = Field(default=False, description="Use the Coral Edge TPU delegate (libedgetpu.so.1).")
    format: OutputFormat = Field(default="auto", description="Output layout; auto picks by output tensors.")
    input_range: InputRange = Field(
        default="auto",
        description="Real-valued input the model expects for pixels 0..255; auto = -1..1 for SSD, 0..1 for YOLO.",
    )
    resize: Literal["area", "linear"] = Field(
        default="linear",
        description="SSD input resize: linear (INTER_LINEAR, ~0.2 ms on a 640x480 frame; same top-1 as area on the "
        "shared photo set) or area (INTER_AREA, as the model's reference results, ~8x the cost).",
    )
    score_threshold: float = Field(default=0.5, gt=0, lt=1, description="Drop detections scoring lower.")
    iou_threshold: float = Field(default=0.45, gt=0, lt=1, description="YOLO NMS overlap threshold.")
    max_detections: int = Field(default=50, ge=1, le=1000, description="Keep at most this many per frame.")
    yolo_box_units: Literal["auto", "normalized", "pixels"] = Field(
        default="auto", description="YOLO box coordinates: 0..1 or input pixels; auto looks at their range."
    )
    hand_label: str = Field(default="person", description="Label whose box on a plate marks it touched.")
    roi_min_overlap: float = Field(
        default=0.3, gt=0, le=1, description="Box fraction inside a plate ROI that assigns it to the plate."
    )
    crop_scale: float | None = Field(
        default=None, ge=1.0, le=4.0,
        description=("Also detect on a square window around each touched plate, this many times the plate's larger "
                     "side (at least the model's input), so items look larger to it; unset = whole frames only. "
                     "Replay --frames runs it on every touched plate, the live service on the plates being "
                     "handled (motion in the plate, a hand over it), at most crop_max_windows per frame."),
    )
    crop_max_windows: int = Field(
        default=1, ge=0, le=4,
        description=("With crop_scale: plate windows per live frame at most, the most moved handled plates, "
                     "each one more invoke, only while the shelf is active; 0 = the live service detects whole "
                     "frames only (replay still runs the windows)."),
    )

    @field_validator("model_sha256", "labels_sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("must be a 64-character hex sha256 (run: sha256sum FILE)")
        return value

    @model_validator(mode="after")
    def _windows_need_a_scale(self) -> DetectorSection:
        if "crop_max_windows" in self.model_fields_set and self.crop_scale is None and self.crop_max_windows:
            raise problem_at("crop_max_windows", "needs crop_scale (plate windows are off without it); set "
                             "crop_scale = 2 to run them, or remove crop_max_windows", self.crop_max_windows)
        return self
