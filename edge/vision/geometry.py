"""Box and polygon geometry: letterbox mapping, point-in-polygon, box-polygon overlap (pure Python)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x1, y1, x2, y2


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was placed into the model input: input = frame * scale + (pad_x, pad_y)."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    frame_w: int
    frame_h: int

    @classmethod
    def stretch(cls, frame_w: int, frame_h: int, input_w: int, input_h: int) -> Letterbox:
        return cls(input_w / frame_w, input_h / frame_h, 0.0, 0.0, frame_w, frame_h)

    @classmethod
    def fit(cls, frame_w: int, frame_h: int, input_w: int, input_h: int) -> Letterbox:
        """Keep the aspect ratio, centre the frame, pad the rest."""
        scale = min(input_w / frame_w, input_h / frame_h)
        new_w, new_h = round(frame_w * scale), round(frame_h * scale)
        return cls(scale, scale, (input_w - new_w) // 2, (input_h - new_h) // 2, frame_w, frame_h)

    def to_frame(self, box: Box) -> tuple[int, int, int, int]:
        """Map a box in input pixels back to frame pixels, clipped to the frame."""
        x1 = (box[0] - self.pad_x) / self.scale_x
        y1 = (box[1] - self.pad_y) / self.scale_y
        x2 = (box[2] - self.pad_x) / self.scale_x
        y2 = (box[3] - self.pad_y) / self.scale_y
        return (
            round(min(max(x1, 0.0), self.frame_w)),
            round(min(max(y1, 0.0), self.frame_h)),
            round(min(max(x2, 0.0), self.frame_w)),
            round(min(max(y2, 0.0), self.frame_h)),
        )


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting."""
    x, y = point
    inside = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygon_area(polygon: Sequence[Point]) -> float:
    """Shoelace formula, absolute value."""
    total = 0.0
    for i in range(len(polygon)):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % len(polygon)]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def clip_polygon_to_box(polygon: Sequence[Point], box: Box) -> list[Point]:
    """Sutherland-Hodgman: the part of `polygon` inside the axis-aligned `box`."""
    x1, y1, x2, y2 = box
    edges = (
        (lambda p: p[0] >= x1, lambda a, b: _cross_x(a, b, x1)),
        (lambda p: p[0] <= x2, lambda a, b: _cross_x(a, b, x2)),
        (lambda p: p[1] >= y1, lambda a, b: _cross_y(a, b, y1)),
        (lambda p: p[1] <= y2, lambda a, b: _cross_y(a, b, y2)),
    )
    output: list[Point] = list(polygon)
    for inside, intersect in edges:
        if not output:
            break
        points, output = output, []
        previous = points[-1]
        for current in points:
            if inside(current):
                if not inside(previous):
                    output.append(intersect(previous, current))
                output.append(current)
            elif inside(previous):
                output.append(intersect(previous, current))
            previous = current
    return output


def box_overlap_fraction(box: Box, polygon: Sequence[Point]) -> float:
    """Fraction of the box's area that lies inside the polygon (0..1)."""
    area = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
    if area <= 0:
        return 0.0
    clipped = clip_polygon_to_box(polygon, box)
    return min(polygon_area(clipped) / area, 1.0) if len(clipped) >= 3 else 0.0


def _cross_x(a: Point, b: Point, x: float) -> Point:
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _cross_y(a: Point, b: Point, y: float) -> Point:
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)
