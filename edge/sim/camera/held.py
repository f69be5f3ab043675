"""The item in the shopper's hand as the renderer pastes it: the product photo (or painted pack) turned by
the interaction's grip and partly covered by the hand that holds it.

The turning and the hand are the photos' per-event jitter code (photos.turned_points, photos.sample,
photos.hand_cover, photos.skin_shade: what `jittered_crop` does to the gallery's crops), applied to the
patch at its size in the frame, so the rendered camera and the benchmarks' crops vary an item one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge.sim.camera.paint import Float
from edge.sim.camera.photos import hand_cover, sample, skin_shade, turned_points
from edge.sim.camera.timeline import Grip

MIN_COVER = 0.01  # below this share no hand is drawn over the item (as jittered_crop)


@dataclass(frozen=True, slots=True)
class HeldItem:
    """An item ready to paste: colour, alpha (the item's footprint) and, per pixel, the share of it the
    hand covers (0..1; kept for tests and reports)."""

    rgb: Float
    alpha: Float
    covered: Float | None  # None: no hand over it

    @property
    def side(self) -> int:
        return int(self.alpha.shape[0])

    @property
    def cover_share(self) -> float:
        """The share of the item (alpha-weighted) under the hand."""
        if self.covered is None:
            return 0.0
        return float((self.alpha * self.covered).sum() / max(float(self.alpha.sum()), 1e-6))

    @property
    def turn_deg(self) -> float:
        """The turn of the item's long axis (degrees, counter-clockwise on screen, within +-90), from the
        second moments of its alpha: a measurement, for tests (0 for a square or a round item)."""
        h, w = self.alpha.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        weight = self.alpha.astype(np.float64)
        total = max(float(weight.sum()), 1e-9)
        cx, cy = float((weight * xs).sum()) / total, float((weight * ys).sum()) / total
        mu20 = float((weight * (xs - cx) ** 2).sum()) / total
        mu02 = float((weight * (ys - cy) ** 2).sum()) / total
        mu11 = float((weight * (xs - cx) * (ys - cy)).sum()) / total
        axis = 0.5 * math.degrees(math.atan2(2 * mu11, mu20 - mu02))  # long axis, from the x axis (y down)
        return (90.0 - axis + 90.0) % 180.0 - 90.0  # an upright item's axis is vertical: 0


def held_item(patch: Float, alpha: Float, turn_deg: float, grip: Grip, skin: tuple[float, float, float],
              extent: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> HeldItem:
    """`patch` (side x side x 3) with its `alpha` (side x side), turned by `turn_deg` about its centre on a
    square canvas that holds the turned item (same parity as `side`, so it stays centred), then covered by
    `grip.cover` of the hand in `skin` (shaded as the gallery's hand) from the grip's edge, in the item's
    own coordinates (the hand turns with the item it holds) and only over the item. `extent` (u0, v0, u1,
    v1, shares of the patch) is where the item lies in its patch (a pack narrower than its square): the
    cover is a share of that. Upright and uncovered, the patch and alpha are returned as they are."""
    side = patch.shape[0]
    covers = grip.cover > MIN_COVER
    if turn_deg == 0.0 and not covers:
        return HeldItem(patch, alpha, None)
    angle = math.radians(turn_deg)
    turned = side * (abs(math.cos(angle)) + abs(math.sin(angle)))  # the turned square's bounding box
    n = side + 2 * math.ceil(max(0.0, turned - side) / 2)
    offsets = np.arange(n, dtype=np.float32) + np.float32(0.5 - n / 2)
    gx, gy = np.meshgrid(offsets, offsets)
    sx, sy = turned_points(gx, gy, angle, 1.0, (side / 2, side / 2))
    out = sample(np.dstack([patch, alpha]).astype(np.float32), sx, sy)
    inside = np.clip(np.minimum(np.minimum(sx, side - sx), np.minimum(sy, side - sy)) + 0.5, 0.0, 1.0)
    rgb, footprint = out[..., :3], (out[..., 3] * inside).astype(np.float32)
    if not covers:
        return HeldItem(rgb, footprint, None)
    u0, v0, u1, v1 = extent
    u, v = (sx / side - u0) / (u1 - u0), (sy / side - v0) / (v1 - v0)
    mask, across = hand_cover(u, v, grip.cover, grip.edge, grip.at)
    hand = np.asarray(skin, np.float32) * skin_shade(across).astype(np.float32)
    m = mask[..., None]
    covered_rgb: Float = (rgb * (1 - m) + hand * m).astype(np.float32)
    return HeldItem(covered_rgb, footprint, mask)
