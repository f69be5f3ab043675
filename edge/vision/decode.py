"""Turn raw detector output tensors into (class, score, box in input pixels) triples.

Two families: SSD with TFLite's detection post-process (four tensors, chosen by name/shape,
never by position) and YOLO-style single tensors (v5 `[1, N, 5+C]` with objectness, v8
`[1, 4+C, N]` without), dequantized with the tensor's own scale and zero point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.vision.nms import nms

POSTPROCESS = "TFLite_Detection_PostProcess"
YoloLayout = Literal["yolov5", "yolov8"]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class RawDetection:
    class_id: int
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in model-input pixels


@dataclass(frozen=True, slots=True)
class OutputTensor:
    name: str
    values: npt.NDArray[np.generic]
    scale: float = 0.0  # 0 = not quantized
    zero_point: int = 0


def dequantize(tensor: OutputTensor) -> FloatArray:
    """real = (q - zero_point) * scale for int8/uint8 tensors; float tensors pass through."""
    if tensor.scale and np.issubdtype(tensor.values.dtype, np.integer):
        return ((tensor.values.astype(np.float32) - tensor.zero_point) * tensor.scale).astype(np.float32)
    return tensor.values.astype(np.float32, copy=False)


def guess_format(shapes: Sequence[tuple[int, ...]]) -> Literal["ssd", "yolov5", "yolov8"]:
    """SSD post-process has 3-4 outputs; a single rank-3 output is YOLO (v8 when channels come first)."""
    if len(shapes) >= 3 and any(len(s) == 3 and s[-1] == 4 for s in shapes):
        return "ssd"
    if len(shapes) == 1 and len(shapes[0]) == 3:
        return yolo_layout(shapes[0])
    raise ModelError(
        f"cannot tell the output format from output shapes {list(shapes)}; set [detector] format "
        "to 'ssd', 'yolov5' or 'yolov8'"
    )


def yolo_layout(shape: tuple[int, ...]) -> YoloLayout:
    """v8 exports are [1, 4+C, N] with N (anchors) much larger than 4+C; v5 is [1, N, 5+C]."""
    return "yolov8" if shape[1] < shape[2] else "yolov5"


def split_ssd_outputs(outputs: Sequence[OutputTensor]) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    """(boxes [N,4] ymin,xmin,ymax,xmax normalised, classes [N], scores [N], count)."""
    boxes = next((o for o in outputs if o.values.ndim == 3 and o.values.shape[-1] == 4), None)
    # The count is [1]; with one detection slot, classes and scores ([1, 1]) have one value too.
    count_tensor = next((o for o in outputs if o.values.size == 1 and o.values.ndim <= 1), None)
    pair = [o for o in outputs if o is not boxes and o is not count_tensor and o.values.ndim == 2]
    if boxes is None or len(pair) != 2:
        raise ModelError(
            f"SSD output tensors not recognised ({[(o.name, o.values.shape) for o in outputs]}); "
            "expected boxes [1,N,4], classes [1,N], scores [1,N], count [1]; set [detector] format"
        )
    classes, scores = _classes_and_scores(pair[0], pair[1])
    size = classes.values.shape[-1]
    n = size if count_tensor is None else min(int(dequantize(count_tensor).ravel()[0]), size)
    return dequantize(boxes)[0], dequantize(classes)[0], dequantize(scores)[0], n


def _classes_and_scores(a: OutputTensor, b: OutputTensor) -> tuple[OutputTensor, OutputTensor]:
    # TFLite_Detection_PostProcess names its outputs ":1" (classes) and ":2" (scores); other exporters'
    # numbering (StatefulPartitionedCall:N) differs between versions, so it is not trusted.
    if a.name.startswith(POSTPROCESS) and b.name.startswith(POSTPROCESS):
        if a.name.endswith(":2") and b.name.endswith(":1"):
            return b, a
        if a.name.endswith(":1") and b.name.endswith(":2"):
            return a, b
    for first, second in ((a, b), (b, a)):
        if "class" in first.name.lower() or "score" in second.name.lower():
            return first, second
    # Unnamed (e.g. TF2 exports): class ids are whole numbers, scores are not.
    a_whole = bool(np.all(np.mod(dequantize(a), 1.0) == 0))
    b_whole = bool(np.all(np.mod(dequantize(b), 1.0) == 0))
    return (b, a) if b_whole and not a_whole else (a, b)


def decode_ssd(
    outputs: Sequence[OutputTensor], input_w: int, input_h: int, threshold: float
) -> list[RawDetection]:
    boxes, classes, scores, count = split_ssd_outputs(outputs)
    found = []
    for i in range(count):
        score = float(scores[i])
        if score < threshold:
            continue
        ymin, xmin, ymax, xmax = (float(v) for v in boxes[i])
        box = (xmin * input_w, ymin * input_h, xmax * input_w, ymax * input_h)
        found.append(RawDetection(int(classes[i]), score, box))
    found.sort(key=lambda d: -d.score)
    return found


def decode_yolo(
    output: OutputTensor,
    layout: YoloLayout,
    input_w: int,
    input_h: int,
    threshold: float,
    iou_threshold: float,
    max_detections: int,
    units: Literal["auto", "normalized", "pixels"] = "auto",
) -> list[RawDetection]:
    table = dequantize(output)
    if table.ndim != 3:
        raise ModelError(f"YOLO output {output.name!r} has shape {table.shape}; expected rank 3 [1, ., .]")
    rows = table[0].T if layout == "yolov8" else table[0]  # -> [N, 4(+1)+C]
    first_class = 5 if layout == "yolov5" else 4
    if rows.shape[1] <= first_class:
        raise ModelError(f"YOLO output shape {table.shape} has no class columns for layout {layout}")
    if layout == "yolov5":
        rows = rows[rows[:, 4] >= threshold]  # objectness bounds the final score: cheap early filter
        class_scores = rows[:, 5:] * rows[:, 4:5]
    else:
        class_scores = rows[:, 4:]
    class_ids = np.argmax(class_scores, axis=1)
    scores = class_scores[np.arange(len(rows)), class_ids]
    keep = scores >= threshold
    rows, class_ids, scores = rows[keep], class_ids[keep], scores[keep]
    if len(rows) == 0:
        return []
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    if units == "normalized" or (units == "auto" and float(np.max(rows[:, :4])) <= 2.0):
        cx, cy, w, h = cx * input_w, cy * input_h, w * input_w, h * input_h
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
    kept = nms(boxes, scores.astype(np.float32), class_ids, iou_threshold, max_detections)
    return [
        RawDetection(int(class_ids[i]), float(scores[i]), tuple(float(v) for v in boxes[i]))  # type: ignore[arg-type]
        for i in kept
    ]
