"""`RenderedCamera`: the shelf camera's frames for a simulated scenario, as JPEGs, deterministic.

A frame at time t depends only on (seed, truth, catalogue, photos, t): every random draw is seeded
by the seed and the frame's millisecond (or the interaction's id, or a time bucket), so frames can
be rendered in any order, in parts or twice, and come out byte-identical.

Frame schedule: `active_fps` while an arm or a shopper is in the picture (plus a margin), else
`idle_fps`, on a fixed grid of milliseconds; minus the frames the camera drops, minus every frame
while it is lost (truth kind "camera"). Times are the truth's (unix seconds for a capture).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edge.sim.camera.held import HeldItem, held_item
from edge.sim.camera.paint import Float, Layer, soft_ellipse
from edge.sim.camera.photos import Photo, PhotoLibrary, resized
from edge.sim.camera.timeline import Handling, Nuisances, Occlusion, Timeline, build_timeline
from edge.sim.camera.view import ShelfView, sku_colour
from edge.sim.scenario import Item
from edge.sim.truth import TruthRecord

Image = npt.NDArray[np.uint8]
BUSY_MARGIN_S = 1.0  # active rate this long before a hand comes in and after it left
EXPOSURE_S = 1 / 30  # the blur of a moving hand is its path during this time
HELD_CACHE = 16  # items in the hand kept ready to paste (<= 3.5 MB each): the frames at the plate reuse them
ARM_PX = 190.0  # the scale of an arm and hand near the shelf (forearm 0.12 x this in radius)


@dataclass(frozen=True, slots=True)
class FrameLook:
    """Per-frame nuisances (drawn from the seed), kept for tests and for the report."""

    gain: float
    noise_sigma: float
    jpeg_quality: int


@dataclass
class RenderedCamera:
    truth: Sequence[TruthRecord]
    items: Sequence[Item]
    view: ShelfView
    seed: int
    photos: PhotoLibrary | None = None  # None: every SKU is a plain painted pack
    stock: Mapping[str, Sequence[str]] = field(default_factory=dict)  # plate -> SKUs (painted, no photo)
    active_fps: float = 10.0
    idle_fps: float = 1.0
    nuisances: Nuisances = field(default_factory=Nuisances)
    timeline: Timeline = field(init=False)
    _background: Float = field(init=False, repr=False)
    _held: dict[tuple[object, ...], HeldItem] = field(init=False, repr=False, default_factory=dict)
    _held_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not (0 < self.idle_fps <= self.active_fps <= 100):
            raise ValueError(f"need 0 < idle_fps <= active_fps <= 100, got {self.idle_fps} / {self.active_fps}")
        catalogue = {item.sku: item for item in self.items}
        self.timeline = build_timeline(self.truth, catalogue, self.view, self.photos, self.seed, self.nuisances)
        self._background = self.view.background(self.seed, self.stock).astype(np.float32)

    # -- schedule ---------------------------------------------------------------------------------
    def frame_times(self, t0: float, t1: float) -> list[int]:
        """Unix ms of the frames the camera delivers in [t0, t1]."""
        active_ms, idle_ms = round(1000 / self.active_fps), round(1000 / self.idle_fps)
        lo, hi = math.ceil(t0 * 1000), math.floor(t1 * 1000)
        times = set(range(-(-lo // idle_ms) * idle_ms, hi + 1, idle_ms))
        for start, end in self.timeline.busy_spans(BUSY_MARGIN_S):
            a, b = max(lo, math.ceil(start * 1000)), min(hi, math.floor(end * 1000))
            if a <= b:
                times.update(range(-(-a // active_ms) * active_ms, b + 1, active_ms))
        return [ms for ms in sorted(times) if self.delivers(ms)]

    def delivers(self, ms: int) -> bool:
        """False for a dropped frame or while the camera is lost."""
        if self.timeline.camera_lost(ms / 1000):
            return False
        return not _rng(self.seed, 0xD0, ms).random() < self.nuisances.drop_frame

    # -- pixels -----------------------------------------------------------------------------------
    def look(self, ms: int) -> FrameLook:
        rng = _rng(self.seed, 0x7E, ms)
        t = ms / 1000
        gain = 1.0 + 0.05 * math.sin(2 * math.pi * t / 900.0 + self.seed % 7) + float(rng.normal(0.0, 0.01))
        for bucket in (math.floor(t / 60.0) - 1, math.floor(t / 60.0)):
            change = _rng(self.seed, 0x11, bucket)
            if change.random() < self.nuisances.light_change_per_s * 60.0:
                start, length = bucket * 60.0 + float(change.uniform(0, 60)), float(change.uniform(5, 40))
                if start <= t <= start + length:
                    gain *= float(change.choice([0.72, 0.82, 1.15, 1.25]))
        return FrameLook(gain, float(rng.uniform(2.0, 4.5)), int(rng.integers(60, 88)))

    def render(self, ms: int) -> Image:
        """The frame at unix ms (whether or not the camera delivers it)."""
        t = ms / 1000
        image = self._background.copy()
        for handling in self.timeline.active(t):
            self._draw_handling(image, handling, t)
        for occlusion in self.timeline.occluding(t):
            self._draw_occlusion(image, occlusion, t)
        look = self.look(ms)
        image *= look.gain
        noise = _rng(self.seed, 0x401, ms).standard_normal(image.shape[:2], dtype=np.float32)
        image += (noise * look.noise_sigma)[..., None]
        return np.clip(image, 0, 255).astype(np.uint8)

    def jpeg(self, ms: int) -> bytes:
        from edge.hw.draw import encode_jpeg

        return encode_jpeg(self.render(ms), self.look(ms).jpeg_quality)

    def frames(self, t0: float, t1: float) -> Iterator[tuple[int, bytes]]:
        for ms in self.frame_times(t0, t1):
            yield ms, self.jpeg(ms)

    def _draw_handling(self, image: Float, h: Handling, t: float) -> None:
        hand = h.hand_at(t)
        if hand is None:
            return
        before = h.hand_at(t - EXPOSURE_S) or hand
        dx, dy = hand[0] - before[0], hand[1] - before[1]
        depth = 1.0 + 0.35 * max(0.0, (hand[1] - h.target[1]) / max(1.0, self.view.height - h.target[1]))
        size = h.item_px * depth
        pad = 30 + int(abs(dx) + abs(dy))
        reach = size * max(1.0, 0.71 + 0.225 * (len(h.photos) - 1))  # a turned item (x sqrt 2), units beside
        x0 = int(min(hand[0], h.entry[0]) - reach - pad)
        x1 = int(max(hand[0], h.entry[0]) + reach + pad)
        layer = Layer((x0, int(hand[1] - size - pad), x1, self.view.height), self.view.width, self.view.height)
        elbow = (hand[0] + 0.45 * (h.entry[0] - hand[0]), hand[1] + 0.55 * (h.entry[1] - hand[1]))
        layer.capsule(h.entry, elbow, 0.16 * ARM_PX * depth, h.sleeve)
        layer.capsule(elbow, hand, 0.12 * ARM_PX * depth, h.skin)
        palm = (hand[0], hand[1] + 0.12 * size)
        layer.ellipse(palm, (0.22 * ARM_PX * depth, 0.18 * ARM_PX * depth), h.skin)
        if h.holds_item(t) and h.photos:
            turn = round(2.0 * h.turn_at(t)) / 2.0  # half degrees: a held item's look is reused (the cache)
            for index, photo in enumerate(h.photos):
                offset = (index - (len(h.photos) - 1) / 2) * 0.45 * size
                held = self.held_item(h, photo, size, turn)
                centre = (hand[0] + offset, hand[1] - 0.1 * size)
                layer.paste(held.rgb, held.alpha, (round(centre[0] - held.side / 2), round(centre[1] - held.side / 2)))
        layer.motion_blur(dx, dy)
        layer.onto(image)

    def held_item(self, h: Handling, photo: Photo | None, size: float, turn_deg: float) -> HeldItem:
        """The item as pasted at `size` px, turned by `turn_deg` and covered by the grip's hand. Cached per
        (interaction, photo, side, turn): the same inputs give the same pixels, cached or not."""
        side = max(8, round(size))
        key = (h.record_id, photo.file if photo is not None else None, side, turn_deg)
        with self._held_lock:
            cached = self._held.get(key)
        if cached is not None:
            return cached
        if photo is None or self.photos is None:
            patch = _plain_pack(h.sku or "", side)
            alpha = np.ones((side, side), np.float32)
            alpha[:, : side // 6] = alpha[:, -(side // 6) :] = 0.0  # a pack is narrower than tall
            extent = ((side // 6) / side, 0.0, 1.0 - (side // 6) / side, 1.0)
        else:
            patch = resized(self.photos.image(photo), (side, side))
            alpha = _photo_alpha(side)
            extent = (0.0, 0.0, 1.0, 1.0)
        item = held_item(patch, alpha, turn_deg, h.grip, h.skin, extent)
        with self._held_lock:  # a camera may render from two threads (a live player, a test)
            if len(self._held) >= HELD_CACHE:
                self._held.pop(next(iter(self._held)))  # oldest out
            self._held[key] = item
        return item

    def _draw_occlusion(self, image: Float, o: Occlusion, t: float) -> None:
        """A shopper seen from behind (shoulders, neck, hair) in front of the shelf, out of focus.
        The detector mostly calls it "person" (measured); rounder blobs came out as chairs and couches."""
        rise = max(0.0, min(1.0, (t - o.t0) / 0.6, (o.t1 - t) / 0.6))  # steps in and out
        h = self.view.height
        top = h - o.reach * h * rise
        head = 0.2 * o.width
        box = (int(o.centre_x - o.width), int(top - 2.5 * head), int(o.centre_x + o.width), h)
        layer = Layer(box, self.view.width, h)
        layer.ellipse((o.centre_x, top + 0.3 * o.width), (o.width / 2, 0.3 * o.width), o.colour, shade=0.5)
        layer.capsule((o.centre_x, top + 0.3 * o.width), (o.centre_x, h + o.width), 0.42 * o.width, o.colour, 0.5)
        layer.capsule((o.centre_x, top), (o.centre_x, top - 0.6 * head), 0.35 * head, (70.0, 95.0, 140.0), 0.3)
        layer.ellipse((o.centre_x, top - 1.2 * head), (0.8 * head, head), (35.0, 45.0, 60.0), shade=0.3)
        layer.motion_blur(0.0, 8.0)
        layer.motion_blur(8.0, 0.0)
        layer.onto(image)


def _photo_alpha(side: int) -> Float:
    return _cached_alpha(side)


_ALPHAS: dict[int, Float] = {}


def _cached_alpha(side: int) -> Float:
    if side not in _ALPHAS:
        _ALPHAS[side] = soft_ellipse(side, side, 0.18, power=4.0)  # a rounded square, soft edges
    return _ALPHAS[side]


def _plain_pack(sku: str, side: int) -> Float:
    """A pack COCO has no class for: a box in the SKU's colour with a light band and dark print."""
    patch = np.empty((side, side, 3), np.float32)
    patch[:] = sku_colour(sku)
    patch[side // 3 : side // 2] = (225.0, 228.0, 230.0)
    for row in range(side // 3 + 4, side // 2 - 2, 6):
        patch[row : row + 2, side // 4 : 3 * side // 4] = (40.0, 40.0, 45.0)
    return patch


def _rng(seed: int, purpose: int, key: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, abs(key), int(key < 0)])
