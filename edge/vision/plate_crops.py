"""Detecting on a crop around a plate: the detector's 300x300 input then sees the item larger.

A product held at a plate fills a quarter of a 640x480 shelf view; squeezed into the SSD's 300x300 input
it is often missed (cartons: 0.24 of interactions, docs/simulator.md). A square window around the touched
plate (`scale` x the plate's larger side, at least the detector input, moved inside the frame) keeps it at
1-1.5x its pixels instead. The window's detections are mapped back to frame pixels, so plate assignment
and evidence stay as they are (edge.vision.regions, edge.vision.evidence).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.model import Detection, PlateRegion

if TYPE_CHECKING:
    from edge.vision.detector import Detector

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


def crop_window(region: PlateRegion, frame_w: int, frame_h: int, scale: float, min_side: int) -> Window:
    """The square window around `region`: side `scale` x its larger side (>= min_side, <= the frame's
    smaller side), centred on it and shifted to lie inside the frame."""
    xs = [x for x, _ in region.polygon]
    ys = [y for _, y in region.polygon]
    side = round(min(max(scale * max(max(xs) - min(xs), max(ys) - min(ys)), min_side), frame_w, frame_h))
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    x0 = int(min(max(round(cx - side / 2), 0), frame_w - side))
    y0 = int(min(max(round(cy - side / 2), 0), frame_h - side))
    return x0, y0, x0 + side, y0 + side


def detect_in_window(detector: Detector, image: npt.NDArray[np.uint8], window: Window) -> list[Detection]:
    """The detector on `image[window]`, boxes in frame pixels."""
    x0, y0, x1, y1 = window
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    return [Detection(d.label, d.class_id, d.score, (d.box[0] + x0, d.box[1] + y0, d.box[2] + x0, d.box[3] + y0))
            for d in detector.detect(crop)]
