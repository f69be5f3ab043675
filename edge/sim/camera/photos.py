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
Float32 = npt.NDArray[np.float32]
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


# -- teach / test photos and per-event jitter, for the appearance model (issue 15) --------------------------
TEACH: Split = "measure"   # the photos self-labelled gallery examples show (and the only ones tuned on)
TEST: Split = "held_out"   # the photos the reported accuracy of the splitter is measured on


@dataclass(frozen=True, slots=True)
class Jitter:
    """Per-event variation of how a product looks in the shopper's hand (drawn per event from its seed)."""

    scale: tuple[float, float] = (0.8, 1.2)         # zoom of the crop around the item
    rotation_deg: float = 25.0                      # +- in-plane rotation
    gain: tuple[float, float] = (0.7, 1.3)          # overall lighting
    colour_cast: float = 0.06                       # +- per channel (white balance of the shelf light)
    blur_px: tuple[int, int] = (0, 2)               # box blur radius (motion, focus)
    occlusion: tuple[float, float] = (0.0, 0.3)     # share of the crop a hand covers, from one edge
    noise: float = 3.0                              # sensor noise, grey levels (1 sigma)


SKIN = np.array([120.0, 150.0, 205.0], np.float32)  # BGR of a hand; each event varies it


def jittered_crop(image: npt.NDArray[np.float32], rng: np.random.Generator, size: int = 128,
                  jitter: Jitter = Jitter()) -> npt.NDArray[np.uint8]:
    """A `size` x `size` BGR uint8 crop of the item as the camera might see it in one event: scaled,
    rotated, relit, blurred, partly covered by a hand, with sensor noise. Pure numpy (bilinear sampling)
    over a photo from `PhotoLibrary.image`; deterministic for a given `rng` state."""
    h, w = image.shape[:2]
    scale = rng.uniform(*jitter.scale)
    angle = np.deg2rad(rng.uniform(-jitter.rotation_deg, jitter.rotation_deg))
    shift = rng.uniform(-0.06, 0.06, 2) * min(h, w)
    # output pixel -> source pixel: rotate about the centre, scale by the photo/crop ratio over the zoom
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    gx, gy = np.meshgrid(grid, grid)
    sx, sy = turned_points(gx, gy, angle, min(h, w) / scale, (w / 2, h / 2), (shift[0], shift[1]))
    out = sample(image, sx, sy)
    cast = 1.0 + rng.uniform(-jitter.colour_cast, jitter.colour_cast, 3)
    out = out * (rng.uniform(*jitter.gain) * cast).astype(np.float32)
    radius = int(rng.integers(jitter.blur_px[0], jitter.blur_px[1] + 1))
    if radius:
        out = _box_blur(out, radius)
    share = rng.uniform(*jitter.occlusion)
    if share > 0.01:
        out = _hand(out, share, rng)
    out = out + rng.normal(0.0, jitter.noise, out.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def turned_points(gx: np.ndarray, gy: np.ndarray, angle: float, span: float, centre: tuple[float, float],
                  shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Where output points (gx, gy), in units of `span` about the output's centre, fall in the source
    image: turned by `angle` (radians; the content shows turned counter-clockwise on screen), about
    `centre` (+ `shift`), in source pixels. Sample there with `sample` (the renderer's item in the hand
    and `jittered_crop` turn photos with this one pair)."""
    cos, sin = np.cos(angle), np.sin(angle)
    sx = (cos * gx - sin * gy) * span + centre[0] + shift[0]
    sy = (sin * gx + cos * gy) * span + centre[1] + shift[1]
    return sx, sy


def sample(image: npt.NDArray[np.float32], sx: np.ndarray, sy: np.ndarray) -> npt.NDArray[np.float32]:
    """`image` (h x w x channels) at source pixel points (sx, sy), bilinear, mirrored outside."""
    return _bilinear(image, sx, sy)


def _bilinear(image: npt.NDArray[np.float32], sx: np.ndarray, sy: np.ndarray) -> npt.NDArray[np.float32]:
    h, w = image.shape[:2]
    x = _mirror(sx - 0.5, w)  # outside the photo it continues mirrored (no smeared edge pixels)
    y = _mirror(sy - 0.5, h)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    result: npt.NDArray[np.float32] = (top * (1 - fy) + bottom * fy).astype(np.float32)
    return result


def _mirror(coord: np.ndarray, n: int) -> np.ndarray:
    period = 2.0 * (n - 1)
    folded = np.abs(np.mod(coord, period))
    return np.clip(np.where(folded > n - 1, period - folded, folded), 0, n - 1.001)


def _box_blur(image: npt.NDArray[np.float32], radius: int) -> npt.NDArray[np.float32]:
    k = 2 * radius + 1
    padded = np.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    acc = np.cumsum(np.cumsum(padded, axis=0, dtype=np.float64), axis=1)
    acc = np.pad(acc, ((1, 0), (1, 0), (0, 0)))
    h, w = image.shape[:2]
    total = acc[k:k + h, k:k + w] - acc[:h, k:k + w] - acc[k:k + h, :w] + acc[:h, :w]
    blurred: npt.NDArray[np.float32] = (total / (k * k)).astype(np.float32)
    return blurred


LEFT, TOP, RIGHT, BOTTOM = 0, 1, 2, 3  # the edge a hand covers an item from (`hand_cover`)


def hand_cover(u: np.ndarray, v: np.ndarray, share: float, edge: int, centre: float) -> tuple[Float32, Float32]:
    """A hand over an item, from one edge: (mask, across) at the item's own coordinates (u, v) in 0..1
    (u to the right, v down). The mask (0..1) is a soft ellipse centred on `edge` at `centre` along it
    (0..1), half of it inside; of a square item it covers `share` of the area (the ellipse's inner half,
    pi/2 x 2 share x 0.35 = 1.10 share, less its soft rim: 0.99-1.01 share, measured on a 400 px grid).
    `across` (0..1 along the edge) shades the hand's skin (`skin_shade`)."""
    along, across = [(u, v), (v, u), (1 - u, v), (1 - v, u)][edge]
    depth = 2.0 * share  # the ellipse's centre sits on the edge: half of it is inside
    inside = (along / max(depth, 1e-3)) ** 2 + ((across - centre) / 0.35) ** 2
    mask: Float32 = np.clip((1.0 - inside) * 6.0, 0.0, 1.0).astype(np.float32)
    return mask, across


def skin_shade(across: np.ndarray) -> np.ndarray:
    """The light on a hand across an item: 0.85 at one side of it, 1.0 at the other."""
    return 0.85 + 0.15 * across[..., None]


def _hand(image: npt.NDArray[np.float32], share: float, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """A soft skin-coloured ellipse entering from one edge, covering about `share` of the crop."""
    size = image.shape[0]
    edge = int(rng.integers(4))
    t = (np.arange(size, dtype=np.float32) + 0.5) / size
    gx, gy = np.meshgrid(t, t)
    centre = rng.uniform(0.3, 0.7)
    cover, across = hand_cover(gx, gy, share, edge, centre)
    mask = cover[..., None]
    skin = SKIN * rng.uniform(0.7, 1.15) + rng.normal(0, 6, 3).astype(np.float32)
    shade = skin_shade(across)
    blended: npt.NDArray[np.float32] = image * (1 - mask) + (skin * shade).astype(np.float32) * mask
    return blended
