"""What the camera sees happen, and when: hands, items and shoppers, from the simulator's truth.

Every pick / put / restock of the truth becomes a `Handling`: an arm reaches from the aisle (the
bottom of the picture) to the plate and back. A pick's item appears in the hand at the plate when
the hand touches (`t_start`) and leaves with it, out of the plate's region and out of the picture;
a put's item comes in with the hand, lies in the plate's region from `t_start` and is released there
(it then joins the stock, which is painted without a photo). A lean is an arm resting on the plate,
empty. Beside the truth: hands that reach over a plate and take nothing (browsing), shoppers who
stand in front of the shelf (occlusion), all drawn from the seed per time bucket, so that the same
seed gives the same timeline however the frames are asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from edge.sim.camera.photos import BOTTOM, LEFT, RIGHT, Jitter, Photo, PhotoLibrary
from edge.sim.camera.view import ShelfView
from edge.sim.scenario import Item
from edge.sim.truth import TruthRecord

Point = tuple[float, float]
SHOPPER = frozenset({"pick", "put", "restock"})
JITTER = Jitter()  # the photos' per-event jitter: the rendered camera turns and covers items as it does
SKIN = ((120.0, 150.0, 205.0), (95.0, 125.0, 180.0), (70.0, 95.0, 140.0), (50.0, 70.0, 105.0), (140.0, 170.0, 220.0))


@dataclass(frozen=True, slots=True)
class Nuisances:
    """How often the camera's trouble happens (assumed, documented in docs/simulator.md)."""

    browse_per_s: float = 0.008  # a hand reaches over a plate and takes nothing
    passer_by_per_s: float = 0.004  # a shopper stands in front of the shelf for a while
    occluded_interaction: float = 0.15  # the shopper's body hides part of the view during an interaction
    drop_frame: float = 0.02  # a frame the camera never delivers
    light_change_per_s: float = 0.003  # the light dims or brightens for a while (a lamp, a cloud)
    item_scale: float = 2.0  # item side in the picture / plate width (tuned on the measure photos)
    item_turn_deg: float = JITTER.rotation_deg  # +- turn of the item in the hand, one per interaction
    item_drift_deg: float = 6.0  # +- further turn on the way between the plate and the aisle
    hand_cover: tuple[float, float] = JITTER.occlusion  # share of the item the hand covers, per interaction


@dataclass(frozen=True, slots=True)
class Grip:
    """How one interaction's item sits in the hand (drawn per interaction from the seed): turned by
    `turn_deg` (+ up to `drift_deg` along the hand's path), a `cover` share of it under the hand, which
    comes over it from `edge` (photos.LEFT / RIGHT / BOTTOM) at `at` (0..1) along that edge."""

    turn_deg: float = 0.0
    drift_deg: float = 0.0
    cover: float = 0.0
    edge: int = BOTTOM
    at: float = 0.5


def draw_grip(seed: int, record_id: int, nuisances: Nuisances) -> Grip:
    """The grip of an interaction: its own stream ([seed, 0x6219, id]), so that turning and covering
    the item change no other draw of the timeline."""
    rng = np.random.default_rng([seed, 0x6219, record_id])
    turn = float(rng.uniform(-nuisances.item_turn_deg, nuisances.item_turn_deg))
    drift = float(rng.uniform(-nuisances.item_drift_deg, nuisances.item_drift_deg))
    cover = float(rng.uniform(*nuisances.hand_cover))
    edge = (LEFT, RIGHT, BOTTOM)[int(rng.integers(3))]  # never from the top: the arm comes from the aisle
    return Grip(turn, drift, cover, edge, float(rng.uniform(0.3, 0.7)))


@dataclass(frozen=True, slots=True)
class Handling:
    """One arm in the picture: in from `entry` over [t_in, t_touch], at `target` until t_leave, out by t_out."""

    record_id: int | None  # the truth record (None: a browsing hand)
    kind: str  # pick | put | restock | lean | browse
    plates: tuple[str, ...]
    target: Point
    entry: Point
    t_in: float
    t_touch: float
    t_leave: float
    t_out: float
    photos: tuple[Photo | None, ...]  # one per unit shown (None: a plain pack)
    sku: str | None
    item_px: float  # side of the item in the picture, at the plate
    skin: tuple[float, float, float]
    sleeve: tuple[float, float, float]
    grip: Grip = Grip()  # how the item sits in the hand (default: upright, uncovered)

    @property
    def carries_in(self) -> bool:
        return self.kind in ("put", "restock")

    @property
    def carries_out(self) -> bool:
        return self.kind == "pick"

    def hand_at(self, t: float) -> Point | None:
        """Where the hand is at t (None: out of the picture)."""
        if t < self.t_in or t > self.t_out:
            return None
        if t < self.t_touch:
            return _between(self.entry, self.target, _ease((t - self.t_in) / (self.t_touch - self.t_in)))
        if t <= self.t_leave:
            wobble = 2.0 * math.sin(7.0 * (t - self.t_touch))  # a hand is never quite still
            return self.target[0] + wobble, self.target[1] + 0.5 * wobble
        exit_point = (self.entry[0] + 0.3 * (self.target[0] - self.entry[0]), self.entry[1])
        return _between(self.target, exit_point, _ease((t - self.t_leave) / (self.t_out - self.t_leave)))

    def turn_at(self, t: float) -> float:
        """The item's turn (degrees, counter-clockwise on screen) at t: the grip's at the plate, drifting
        by up to its `drift_deg` on the way in or out, as the hand moves."""
        if t < self.t_touch:
            away = 1.0 - _ease((t - self.t_in) / (self.t_touch - self.t_in))
        elif t <= self.t_leave:
            away = 0.0
        else:
            away = _ease((t - self.t_leave) / (self.t_out - self.t_leave))
        return self.grip.turn_deg + self.grip.drift_deg * away

    def holds_item(self, t: float) -> bool:
        if self.carries_in:
            return self.t_in <= t < self.t_leave
        if self.carries_out:
            return self.t_touch <= t <= self.t_out
        return False


@dataclass(frozen=True, slots=True)
class Occlusion:
    t0: float
    t1: float
    centre_x: float
    width: float
    reach: float  # how far up the picture the body comes (fraction of the height)
    colour: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Timeline:
    handlings: tuple[Handling, ...]
    occlusions: tuple[Occlusion, ...]
    outages: tuple[tuple[float, float], ...]  # camera lost (truth kind "camera"): no frames

    def active(self, t: float, margin: float = 0.0) -> list[Handling]:
        return [h for h in self.handlings if h.t_in - margin <= t <= h.t_out + margin]

    def occluding(self, t: float) -> list[Occlusion]:
        return [o for o in self.occlusions if o.t0 <= t <= o.t1]

    def camera_lost(self, t: float) -> bool:
        return any(t0 <= t <= t1 for t0, t1 in self.outages)

    def busy_spans(self, margin: float) -> list[tuple[float, float]]:
        """Where something moves (the camera's active rate), merged."""
        spans = sorted(
            [(h.t_in - margin, h.t_out + margin) for h in self.handlings]
            + [(o.t0 - margin, o.t1 + margin) for o in self.occlusions]
        )
        merged: list[tuple[float, float]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged


def build_timeline(
    truth: Sequence[TruthRecord],
    items: Mapping[str, Item],
    view: ShelfView,
    photos: PhotoLibrary | None,
    seed: int,
    nuisances: Nuisances,
) -> Timeline:
    handlings: list[Handling] = []
    occlusions: list[Occlusion] = []
    for record in truth:
        rng = np.random.default_rng([seed, 0xCA4, record.id])
        if record.kind in SHOPPER or record.kind == "lean":
            handling = _handling(record, items, view, photos, rng, nuisances.item_scale)
            if handling is not None:
                if handling.photos:
                    handling = replace(handling, grip=draw_grip(seed, record.id, nuisances))
                handlings.append(handling)
                if record.kind in SHOPPER and rng.random() < nuisances.occluded_interaction:
                    t0 = handling.t_in - float(rng.uniform(0.0, 0.5))
                    occlusions.append(
                        _occlusion(
                            rng, view, t0, handling.t_touch + float(rng.uniform(0.3, 1.5)), near=handling.target[0]
                        )
                    )
    start = min((r.t_start for r in truth), default=0.0)
    end = max((r.t_settled for r in truth), default=0.0) + 5.0
    for bucket in range(math.floor(start / 30.0), math.floor(end / 30.0) + 1):
        rng = np.random.default_rng([seed, 0xB0, bucket])
        for _ in range(int(rng.poisson(nuisances.browse_per_s * 30.0))):
            at = bucket * 30.0 + float(rng.uniform(0.0, 30.0))
            handlings.append(_browsing(rng, view, at))
        for _ in range(int(rng.poisson(nuisances.passer_by_per_s * 30.0))):
            at = bucket * 30.0 + float(rng.uniform(0.0, 30.0))
            occlusions.append(_occlusion(rng, view, at, at + float(rng.uniform(1.0, 6.0)), near=None))
    outages = tuple((r.t_start, r.t_settled) for r in truth if r.kind == "camera")
    return Timeline(
        tuple(sorted(handlings, key=lambda h: h.t_in)), tuple(sorted(occlusions, key=lambda o: o.t0)), outages
    )


def _handling(
    record: TruthRecord,
    items: Mapping[str, Item],
    view: ShelfView,
    photos: PhotoLibrary | None,
    rng: np.random.Generator,
    item_scale: float,
) -> Handling | None:
    areas = [a for a in (view.area(p) for p in record.plates) if a is not None]
    if not areas:
        return None  # a plate the camera does not see
    cx = sum(a.centre[0] for a in areas) / len(areas)
    cy = sum(a.centre[1] for a in areas) / len(areas)
    width = min(a.width for a in areas)
    height = min(a.rect[3] - a.rect[1] for a in areas)
    target = (cx + float(rng.uniform(-0.15, 0.15)) * width, cy + float(rng.uniform(0.0, 0.15)) * height)
    entry = (target[0] + float(rng.uniform(-80.0, 80.0)), view.height + 60.0)
    span = max(record.t_settled - record.t_start, 0.6)
    t0 = record.t_start
    if record.kind == "pick":
        t_in, t_leave = t0 - float(rng.uniform(0.5, 0.8)), t0 + 0.45 * span
        t_out = t_leave + float(rng.uniform(0.6, 0.9))
    elif record.kind == "lean":
        t_in, t_leave = t0 - 0.4, max(t0 + 0.3, record.t_settled - 0.3)
        t_out = t_leave + 0.5
    else:
        t_in, t_leave = t0 - float(rng.uniform(0.6, 0.9)), t0 + 0.35 * span
        t_out = t_leave + float(rng.uniform(0.5, 0.8))
    item = items.get(record.sku or "")
    shown: tuple[Photo | None, ...] = ()
    if item is not None and record.kind != "lean":
        pool = photos.photos_for(item) if photos is not None else []
        units = min(max(record.count, 1), 3)
        shown = tuple(pool[int(rng.integers(len(pool)))] if pool else None for _ in range(units))
    size = float(np.clip(width * rng.uniform(0.85, 1.05) * item_scale, 60.0, 300.0))
    return Handling(
        record.id,
        record.kind,
        tuple(record.plates),
        target,
        entry,
        t_in,
        t0,
        t_leave,
        t_out,
        shown,
        record.sku if record.kind != "lean" else None,
        size,
        SKIN[int(rng.integers(len(SKIN)))],
        _clothing(rng),
    )


def _browsing(rng: np.random.Generator, view: ShelfView, at: float) -> Handling:
    """A hand over a plate (looking, touching nothing that weighs): no item, no weight change."""
    area = view.plates[int(rng.integers(len(view.plates)))]
    x0, y0, x1, y1 = area.rect
    target = (float(rng.uniform(x0, x1)), float(rng.uniform(y0 + 0.4 * (y1 - y0), y1 + 10.0)))
    entry = (target[0] + float(rng.uniform(-60.0, 60.0)), view.height + 60.0)
    hold = float(rng.uniform(0.3, 1.2))
    return Handling(
        None,
        "browse",
        (area.name,),
        target,
        entry,
        at,
        at + 0.6,
        at + 0.6 + hold,
        at + 1.2 + hold,
        (),
        None,
        0.0,
        SKIN[int(rng.integers(len(SKIN)))],
        _clothing(rng),
    )


def _occlusion(rng: np.random.Generator, view: ShelfView, t0: float, t1: float, near: float | None) -> Occlusion:
    centre = near + float(rng.uniform(-150.0, 150.0)) if near is not None else float(rng.uniform(0.0, view.width))
    return Occlusion(
        t0, t1, centre, float(rng.uniform(0.35, 0.6)) * view.width, float(rng.uniform(0.25, 0.6)), _clothing(rng)
    )


def _clothing(rng: np.random.Generator) -> tuple[float, float, float]:
    base = rng.uniform(25.0, 150.0, 3)
    return float(base[0]), float(base[1]), float(base[2])


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def _between(a: Point, b: Point, u: float) -> Point:
    return a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u
