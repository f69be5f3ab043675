"""Detecting on a crop around a plate: the detector's 300x300 input then sees the item larger.

A product held at a plate fills a quarter of a 640x480 shelf view; squeezed into the SSD's 300x300 input
it is often missed (cartons: 0.24 of interactions, docs/simulator.md). A square window around the touched
plate (`scale` x the plate's larger side, at least the detector input, moved inside the frame) keeps it at
1-1.5x its pixels instead. The window's detections are mapped back to frame pixels and kept with the frame
(`FrameRecord.windows`), so plate assignment and evidence stay as they are (edge.vision.regions,
edge.vision.evidence); `analysed_frames` is the one place they join the frame's own detections, for replay
(edge.vision.recorded) and the live service (edge.vision.service) alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.model import Detection, PlateRegion
from edge.vision.evidence import AnalysedFrame

if TYPE_CHECKING:
    from edge.vision.detector import Detector, Prepared
    from edge.vision.ring import FrameRecord

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


def prepare_window(detector: Detector, image: npt.NDArray[np.uint8], window: Window) -> Prepared:
    """The detector's input for `image[window]` (run it with `detector.run`, then `in_frame`)."""
    x0, y0, x1, y1 = window
    return detector.prepare(np.ascontiguousarray(image[y0:y1, x0:x1]))


def in_frame(detections: Iterable[Detection], window: Window) -> tuple[Detection, ...]:
    """Detections in the window's pixels, moved to the frame's."""
    x0, y0 = window[0], window[1]
    return tuple(Detection(d.label, d.class_id, d.score, (d.box[0] + x0, d.box[1] + y0, d.box[2] + x0,
                                                          d.box[3] + y0)) for d in detections)


def detect_in_window(detector: Detector, image: npt.NDArray[np.uint8], window: Window) -> list[Detection]:
    """The detector on `image[window]`, boxes in frame pixels."""
    return list(in_frame(detector.run(prepare_window(detector, image, window)), window))


def merged_detections(record: FrameRecord, plates: Collection[str] | None = None) -> tuple[Detection, ...] | None:
    """The frame's own detections followed by those of its plate windows (of `plates` only, when given); None
    while the detector has not run on it."""
    own = record.detections  # read before the windows, which the live worker sets before the detections
    if own is None:
        return None
    return own + tuple(d for plate, found in record.windows.items() if plates is None or plate in plates
                       for d in found)


def analysed_frames(records: Iterable[FrameRecord], plates: Collection[str] | None = None) -> list[AnalysedFrame]:
    """The frames of `records` the detector has run on, for `build_evidence`, each with its windows' detections
    (`merged_detections`): how replay and the live service both turn the ring into evidence."""
    merged = ((r, merged_detections(r, plates)) for r in records)
    return [AnalysedFrame(r.t, r.seq, found) for r, found in merged if found is not None]
