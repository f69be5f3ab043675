"""Product photos for the rendered camera, per SKU, from an image directory (../shared/images).

A SKU shows a photo of its catalogue `look` (the photo family, edge.sim.photo_rates), else of a
family whose detector label is one of its labels, else no photo (a plain pack is painted: COCO has
no class for pasta or gum). The photos are split as the statistical camera's rates are
(edge.sim.photo_rates.split_photos): the *measure* half tunes the renderer, the *held-out* half is
what rendered-frame figures are reported on; `split="all"` uses both (demos).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError
from edge.sim.photo_rates import FAMILY_LABEL, family_of, split_photos
from edge.sim.scenario import Item

Split = Literal["measure", "held_out", "all"]
DEFAULT_IMAGES = Path(__file__).resolve().parents[3].parent / "shared" / "images"
CROP = 0.84  # keep the central share of a photo: the product, less of the store around it


@dataclass(frozen=True, slots=True)
class Photo:
    family: str
    file: str  # relative to the image directory


class PhotoLibrary:
    def __init__(self, root: Path = DEFAULT_IMAGES, split: Split = "held_out") -> None:
        if not root.is_dir():
            raise CameraError(
                f"{root}: no image directory; give the product photos with --images DIR (default ../shared/images)"
            )
        self.root = root
        self.split = split
        files = [str(p.relative_to(root)) for p in sorted(root.rglob("*.jpg"))]
        pairs = [(family, name) for name in files if (family := family_of(name))]
        measure, held_out = split_photos(pairs)
        chosen = {"measure": measure, "held_out": held_out, "all": measure + held_out}[split]
        self.families: dict[str, list[Photo]] = defaultdict(list)
        for family, name in sorted(chosen):
            self.families[family].append(Photo(family, name))

    def photos_for(self, item: Item) -> list[Photo]:
        """The photos a SKU may show (empty: it is painted as a plain pack)."""
        if item.look and self.families.get(item.look):
            return self.families[item.look]
        for label in sorted(item.labels):
            for family in sorted(self.families):
                if FAMILY_LABEL.get(family) == label:
                    return self.families[family]
        return []

    def image(self, photo: Photo) -> npt.NDArray[np.float32]:
        """The photo's centre crop as float32 BGR (cached: a run shows each photo many times)."""
        return _load(self.root / photo.file)


@functools.lru_cache(maxsize=512)
def _load(path: Path) -> npt.NDArray[np.float32]:
    from edge.hw.draw import read_image

    image = read_image(path)
    h, w = image.shape[:2]
    side = int(min(h, w) * CROP)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop: npt.NDArray[np.float32] = image[y0 : y0 + side, x0 : x0 + side].astype(np.float32)
    return crop


def resized(image: npt.NDArray[np.float32], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """`image` scaled to (width, height) through edge.hw.pixels (OpenCV, area filter for shrinking)."""
    from edge.hw.pixels import resize_into

    out = np.empty((size[1], size[0], 3), np.uint8)
    resize_into(np.clip(image, 0, 255).astype(np.uint8), out, "area")
    return out.astype(np.float32)
