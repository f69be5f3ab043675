"""Which part of which camera frame shows an item event's product, cut out as a small JPEG.

Per plate of the event, over the frames of its window that the detector analysed:
1. the best detection the plate's region holds (edge.vision.regions.assign), a label the SKU carries in
   the catalogue first, then by score: region `detection`;
2. else, where a hand touched the plate, the hand's box clipped to the plate's region, from the frame
   where that overlap is largest: region `hand`;
3. else no crop: the camera did not see the item.

The box grows by `crop_margin` on each side, is clipped to the frame, dropped when a side is under
`min_crop_px`, scaled down to `crop_max_side` and stored as JPEG (`jpeg_quality`).

`choose` is geometry only (no pixel is decoded), so the node's processing thread runs it and hands the worker
just the chosen frames; `cut` decodes and encodes, on the worker. `crops_for` does both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.config.gallery import GallerySection
from edge.errors import CameraError
from edge.gallery.records import Box, Crop, Region
from edge.model import Detection, PlateRegion
from edge.vision.regions import assign

Image = npt.NDArray[np.uint8]
_NO_SCRATCH: Image = np.empty((1, 1, 3), np.uint8)  # fits no frame: image_once then decodes into a new array


class Frame(Protocol):
    """A frame of the look-back ring (edge.vision.ring.FrameRecord)."""

    @property
    def t(self) -> float: ...
    @property
    def detections(self) -> tuple[Detection, ...] | None: ...
    def image_once(self, scratch: Image) -> Image: ...


@dataclass(frozen=True, slots=True)
class Choice:
    """Where one plate's item shows best: a frame and a box in it."""

    plate: str
    frame: Frame
    box: Box
    region: Region
    label: str | None


def crops_for(frames: Sequence[Frame], regions: Sequence[PlateRegion], plates: Collection[str],
              labels: Mapping[str, Collection[str]], hand_label: str, min_overlap: float,
              settings: GallerySection) -> list[Crop]:
    """At most one crop per plate in `plates`; `labels`: plate -> the labels its SKU carries."""
    return cut_all(choose(frames, regions, plates, labels, hand_label, min_overlap), settings)


def choose(frames: Sequence[Frame], regions: Sequence[PlateRegion], plates: Collection[str],
           labels: Mapping[str, Collection[str]], hand_label: str, min_overlap: float) -> list[Choice]:
    analysed = [f for f in frames if f.detections is not None]
    by_name = {r.name: r for r in regions}
    out = []
    for plate in sorted(plates):
        region = by_name.get(plate)
        if region is None:  # a plate the camera does not see
            continue
        choice = _best_detection(analysed, regions, plate, labels.get(plate, ()), hand_label, min_overlap) or \
            _hand_region(analysed, region, hand_label)
        if choice is not None:
            frame, box, kind, label = choice
            out.append(Choice(plate, frame, box, kind, label))
    return out


def cut_all(choices: Sequence[Choice], settings: GallerySection) -> list[Crop]:
    out = []
    for choice in choices:
        crop = cut(choice.frame, choice.box, settings)
        if crop is not None:
            out.append(Crop(choice.plate, choice.frame.t, choice.region, choice.label, crop[0], crop[1]))
    return out


def _best_detection(frames: Sequence[Frame], regions: Sequence[PlateRegion], plate: str, wanted: Collection[str],
                    hand_label: str, min_overlap: float) -> tuple[Frame, Box, Region, str | None] | None:
    best: tuple[tuple[bool, float], Frame, Detection] | None = None
    for frame in frames:
        assert frame.detections is not None
        for detection in assign(frame.detections, regions, min_overlap, hand_label).get(plate, ()):
            key = (detection.label in wanted, detection.score)
            if best is None or key > best[0]:
                best = (key, frame, detection)
    if best is None:
        return None
    return best[1], best[2].box, "detection", best[2].label


def _hand_region(frames: Sequence[Frame], region: PlateRegion,
                 hand_label: str) -> tuple[Frame, Box, Region, None] | None:
    xs, ys = [p[0] for p in region.polygon], [p[1] for p in region.polygon]
    px1, py1, px2, py2 = min(xs), min(ys), max(xs), max(ys)
    best: tuple[float, Frame, Box] | None = None
    for frame in frames:
        assert frame.detections is not None
        for detection in frame.detections:
            if detection.label != hand_label:
                continue
            x1, y1, x2, y2 = detection.box
            box = (max(x1, px1), max(y1, py1), min(x2, px2), min(y2, py2))
            area = (box[2] - box[0]) * (box[3] - box[1])
            if box[2] > box[0] and box[3] > box[1] and (best is None or area > best[0]):
                best = (area, frame, (int(box[0]), int(box[1]), int(box[2]), int(box[3])))
    return None if best is None else (best[1], best[2], "hand", None)


def cut(frame: Frame, box: Box, settings: GallerySection) -> tuple[Box, bytes] | None:
    """(the box cut, in frame pixels; its JPEG), or None when too small or the frame cannot be decoded."""
    from edge.hw.draw import encode_jpeg
    from edge.hw.pixels import resize_into

    try:
        image = frame.image_once(_NO_SCRATCH)  # a compressed frame is decoded for this cut only, not kept
    except CameraError:
        return None  # a corrupt compressed frame: no crop from it
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * settings.crop_margin, (y2 - y1) * settings.crop_margin
    cut_box = (max(0, int(x1 - mx)), max(0, int(y1 - my)), min(width, round(x2 + mx)),
               min(height, round(y2 + my)))
    w, h = cut_box[2] - cut_box[0], cut_box[3] - cut_box[1]
    if w < settings.min_crop_px or h < settings.min_crop_px:
        return None
    pixels = image[cut_box[1]:cut_box[3], cut_box[0]:cut_box[2]]
    scale = settings.crop_max_side / max(w, h)
    if scale < 1:
        small = np.empty((max(1, round(h * scale)), max(1, round(w * scale)), 3), np.uint8)
        resize_into(np.ascontiguousarray(pixels), small, "area")
        pixels = small
    return cut_box, encode_jpeg(np.ascontiguousarray(pixels), settings.jpeg_quality)
