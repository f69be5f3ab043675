"""Plate regions of interest: which detections belong to which plate, and which plates a hand touches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edge.config.plates import PlateSection
from edge.model import Detection, PlateRegion
from edge.vision.geometry import box_overlap_fraction, clip_polygon_to_box, point_in_polygon

__all__ = ["PlateRegion", "assign", "plate_of", "regions_from_config", "touched_plates"]


def regions_from_config(plates: Iterable[PlateSection]) -> list[PlateRegion]:
    """Plates without an `roi` are invisible to the camera and get no region."""
    return [
        PlateRegion(p.name, tuple((float(x), float(y)) for x, y in p.roi)) for p in plates if p.roi is not None
    ]


def plate_of(detection: Detection, regions: Sequence[PlateRegion], min_overlap: float) -> str | None:
    """The plate whose polygon holds the box centre, else the one covering most of the box (>= min_overlap)."""
    x1, y1, x2, y2 = detection.box
    centre = ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
    best_name, best_overlap = None, 0.0
    for region in regions:
        if point_in_polygon(centre, region.polygon):
            return region.name
        overlap = box_overlap_fraction((x1, y1, x2, y2), region.polygon)
        if overlap >= min_overlap and overlap > best_overlap:
            best_name, best_overlap = region.name, overlap
    return best_name


def assign(
    detections: Iterable[Detection], regions: Sequence[PlateRegion], min_overlap: float, hand_label: str
) -> dict[str, list[Detection]]:
    """Plate name -> its (non-hand) detections."""
    assigned: dict[str, list[Detection]] = {region.name: [] for region in regions}
    for detection in detections:
        if detection.label == hand_label:
            continue
        name = plate_of(detection, regions, min_overlap)
        if name is not None:
            assigned[name].append(detection)
    return assigned


def touched_plates(detections: Iterable[Detection], regions: Sequence[PlateRegion], hand_label: str) -> set[str]:
    """Plates whose region a hand (the model's `hand_label` class) box overlaps at all."""
    touched: set[str] = set()
    for detection in detections:
        if detection.label != hand_label:
            continue
        box = tuple(float(v) for v in detection.box)
        for region in regions:
            if len(clip_polygon_to_box(region.polygon, box)) >= 3:  # type: ignore[arg-type]
                touched.add(region.name)
    return touched
