"""[[plates]]: which load-cell channels make up each plate, and where the plate sits."""

from __future__ import annotations

from pydantic import Field, field_validator

from edge.config.base import Section
from edge.config.node import IDENTIFIER


class PlateSection(Section):
    name: str = Field(pattern=IDENTIFIER, description="Plate name used in events, e.g. 'p1' or 'A3'.")
    channels: list[int] = Field(min_length=1, max_length=4, description="Channel indices (0-based) summed.")
    width_mm: float = Field(default=300.0, gt=0, description="Plate width along the shelf, millimetres.")
    depth_mm: float = Field(default=400.0, gt=0, description="Plate depth, front to back, millimetres.")
    max_g: float = Field(
        default=30_000.0,
        gt=0,
        description="Heaviest load the plate is built for (its cells' rated capacity); a reading beyond +-this "
        "flags the plate and its events 'over_range', and calibration refuses weights beyond it.",
    )
    roi: list[tuple[int, int]] | None = Field(
        default=None,
        min_length=3,
        description="Plate outline in camera pixels, [[x, y], ...] (>= 3 points); needed for camera evidence.",
    )

    @field_validator("roi")
    @classmethod
    def _roi_is_an_outline(cls, points: list[tuple[int, int]] | None) -> list[tuple[int, int]] | None:
        if points is None:
            return None
        if any(x < 0 or y < 0 for x, y in points):
            raise ValueError("camera pixels start at 0; no coordinate may be negative")
        if len(set(points)) < 3:
            raise ValueError("needs at least 3 different points: the plate's corners, in order around it")
        return points
