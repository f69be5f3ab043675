"""The fixed shelf view: where each plate lies in the picture, and the empty shelf behind the action.

The camera hangs above the aisle and looks at one shelf: the shelf's back wall at the top, plates in
one or two rows on shelf boards, the shelf's front lip and the aisle at the bottom (where the shopper
stands and hands come from). Plates are axis-aligned rectangles; a node config's `roi` outlines win
(their bounding boxes), so the rendered frames fit the regions the node assigns detections with.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.sim.camera.paint import fill_rounded_box

if TYPE_CHECKING:
    from edge.config.plates import PlateSection

Image = npt.NDArray[np.uint8]
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), pixels
WIDTH, HEIGHT = 640, 480
MAX_PER_ROW = 4


@dataclass(frozen=True, slots=True)
class PlateArea:
    name: str
    rect: Rect

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.rect
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    @property
    def width(self) -> int:
        return self.rect[2] - self.rect[0]

    def roi(self) -> list[tuple[int, int]]:
        """The outline for the node config's `[[plates]] roi` (corners, clockwise from top left)."""
        x0, y0, x1, y1 = self.rect
        return [(x0, y0), (x1 - 1, y0), (x1 - 1, y1 - 1), (x0, y1 - 1)]


@dataclass(frozen=True, slots=True)
class ShelfView:
    plates: tuple[PlateArea, ...]
    width: int = WIDTH
    height: int = HEIGHT

    @classmethod
    def grid(cls, names: Sequence[str], width: int = WIDTH, height: int = HEIGHT) -> ShelfView:
        """Plates left to right, at most 4 per row (one row, or two above each other)."""
        if not names:
            raise ValueError("the shelf view needs at least one plate")
        per_row = min(MAX_PER_ROW, len(names))
        rows = math.ceil(len(names) / per_row)
        margin, gap = round(0.03 * width), round(0.015 * width)
        top, bottom = (0.40, 0.84) if rows == 1 else (0.12, 0.86)
        row_h = (bottom - top) * height / rows
        plate_w = (width - 2 * margin - (per_row - 1) * gap) / per_row
        areas = []
        for index, name in enumerate(names):
            row, col = divmod(index, per_row)
            x0 = round(margin + col * (plate_w + gap))
            y0 = round(top * height + row * row_h + 0.08 * row_h)
            areas.append(PlateArea(name, (x0, y0, round(x0 + plate_w), round(top * height + (row + 1) * row_h))))
        return cls(tuple(areas), width, height)

    @classmethod
    def from_config(cls, plates: Sequence[PlateSection], width: int = WIDTH, height: int = HEIGHT) -> ShelfView:
        """The plates' `roi` outlines (bounding boxes) when every plate has one, else the grid."""
        if plates and all(p.roi for p in plates):
            areas = []
            for plate in plates:
                xs = [x for x, _ in plate.roi or ()]
                ys = [y for _, y in plate.roi or ()]
                if max(xs) >= width or max(ys) >= height:
                    raise ValueError(
                        f"plate {plate.name}: roi reaches ({max(xs)}, {max(ys)}), outside the {width}x{height} "
                        "rendered frame; fix its roi or leave every roi out to get the default view"
                    )
                areas.append(PlateArea(plate.name, (min(xs), min(ys), max(xs) + 1, max(ys) + 1)))
            return cls(tuple(areas), width, height)
        return cls.grid([p.name for p in plates], width, height)

    def area(self, name: str) -> PlateArea | None:
        return next((p for p in self.plates if p.name == name), None)

    def roi_lines(self) -> str:
        """The `roi = ...` line of each plate, to paste into the node config's [[plates]]."""
        return "\n".join(f"# plate {p.name}\nroi = {[list(xy) for xy in p.roi()]}" for p in self.plates)

    def background(self, seed: int, stock: Mapping[str, Sequence[str]]) -> Image:
        """The empty shelf (wall, boards, trays, price strip) with each plate's stock as plain packs in
        the SKU's colour at the back of the tray: no photo, so the detector sees no product there."""
        rng = np.random.default_rng([seed, 0xB6])
        h, w = self.height, self.width
        ys = np.linspace(0.0, 1.0, h)[:, None, None]
        wall = np.array([150.0, 160.0, 168.0]) + 35.0 * (1.0 - ys)  # lit from above
        image = np.broadcast_to(wall, (h, w, 3)).copy()
        coarse = rng.normal(0.0, 4.0, (h // 16 + 1, w // 16 + 1, 1))
        image += np.kron(coarse, np.ones((16, 16, 1)))[:h, :w]
        for top, bottom in self._row_spans():
            image[top:bottom] = image[top:bottom] * 0.55 + np.array([105.0, 110.0, 112.0]) * 0.45  # board
            lip = min(h, bottom + max(6, h // 40))
            image[bottom:lip] = (70.0, 72.0, 76.0)  # the board's front edge, with its price strip
            for plate in self.plates:
                if plate.rect[3] == bottom:
                    x0, _, x1, _ = plate.rect
                    tag = (x0 + (x1 - x0) // 3, bottom + 1, x0 + (x1 - x0) // 3 + 26, lip - 1)
                    image[tag[1] : tag[3], tag[0] : tag[2]] = (235.0, 238.0, 240.0)
        image[self._aisle_top() :] = (60.0, 62.0, 66.0)
        for plate in self.plates:
            x0, y0, x1, y1 = plate.rect
            image[y0:y1, x0:x1] = image[y0:y1, x0:x1] * 0.7 + np.array([185.0, 188.0, 190.0]) * 0.3
            image[y0 : y0 + 2, x0:x1] = image[y1 - 2 : y1, x0:x1] = (90.0, 92.0, 95.0)
            image[y0:y1, x0 : x0 + 2] = image[y0:y1, x1 - 2 : x1] = (90.0, 92.0, 95.0)
            self._stock(image, plate, stock.get(plate.name, ()))
        return np.clip(image, 0, 255).astype(np.uint8)

    def _stock(self, image: npt.NDArray[np.float64], plate: PlateArea, skus: Sequence[str]) -> None:
        if not skus:
            return
        x0, y0, x1, y1 = plate.rect
        depth = (y1 - y0) * 0.32
        slot_w = (x1 - x0 - 8) / max(1, 2 * len(skus))
        for index in range(2 * len(skus)):
            sku = skus[index // 2]
            colour = sku_colour(sku)
            bx0 = x0 + 4 + index * slot_w
            fill_rounded_box(image, (bx0 + 2, y0 + 6, bx0 + slot_w - 2, y0 + 6 + depth), colour, radius=5.0)

    def _row_spans(self) -> list[tuple[int, int]]:
        spans = sorted({(p.rect[1], p.rect[3]) for p in self.plates})
        rows: list[tuple[int, int]] = []
        for top, bottom in spans:
            if rows and top < rows[-1][1]:
                rows[-1] = (min(rows[-1][0], top), max(rows[-1][1], bottom))
            else:
                rows.append((top, bottom))
        return [(max(0, top - 12), bottom) for top, bottom in rows]

    def _aisle_top(self) -> int:
        return min(self.height - 1, max(p.rect[3] for p in self.plates) + max(6, self.height // 40) + 1)


def sku_colour(sku: str) -> tuple[float, float, float]:
    """A stable, muted BGR colour per SKU (crc32, not hash(): the same in every process)."""
    code = zlib.crc32(sku.encode())
    return tuple(float(60 + (code >> shift & 0xFF) * 0.6) for shift in (0, 8, 16))  # type: ignore[return-value]
