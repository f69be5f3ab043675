"""Greedy non-maximum suppression in numpy, per class."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def iou_one_to_many(box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int64],
    iou_threshold: float,
    max_keep: int,
) -> list[int]:
    """Indices kept, best score first. Boxes (x1, y1, x2, y2) only suppress boxes of their own class.

    Classes are separated by shifting each class's boxes to its own far-away region, so one
    greedy pass does every class at once.
    """
    if len(scores) == 0:
        return []
    span = float(np.max(boxes)) - float(np.min(boxes)) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * span)[:, None]
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < max_keep:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        if rest.size == 0:
            break
        overlaps = iou_one_to_many(shifted[best], shifted[rest])
        order = rest[overlaps <= iou_threshold]
    return keep
