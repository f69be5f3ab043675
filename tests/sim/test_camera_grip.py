"""The rendered camera's per-interaction grip (issue 15's jitter): the item in the hand is turned and partly
covered by the hand, drawn from the seed per interaction, and the frames show what was drawn."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge.sim.camera import RenderedCamera, ShelfView
from edge.sim.camera.photos import BOTTOM, DEFAULT_IMAGES, LEFT, RIGHT, PhotoLibrary
from edge.sim.camera.timeline import Grip, Handling, Nuisances, draw_grip
from edge.sim.camera.view import sku_colour
from tests.sim.test_camera_render import PICK_AND_PUT, PLATES, first, shelf_scenario, truth_of

QUIET = {"light_change_per_s": 0.0, "occluded_interaction": 0.0, "browse_per_s": 0.0, "passer_by_per_s": 0.0}


PASTA_IN_THE_MIDDLE = [*PICK_AND_PUT[:2], {"at": 22.0, "kind": "pick", "plate": "p3", "sku": "pasta-500"}]


def camera(seed: int, photos: PhotoLibrary | None = None, **nuisances: object) -> RenderedCamera:
    scenario = shelf_scenario(PASTA_IN_THE_MIDDLE, seed=seed)
    return RenderedCamera(truth_of(scenario), scenario.items, ShelfView.grid(PLATES), seed, photos=photos,
                          nuisances=Nuisances(**{**QUIET, **nuisances}))  # type: ignore[arg-type]  # fmt: skip


def pasta_pick(cam: RenderedCamera) -> Handling:
    """The pick of a painted pasta pack from p3 (no stock painted there: only the item has its colour; the
    item is inside the frame)."""
    record = next(r for r in cam.truth if r.kind == "pick" and r.sku == "pasta-500")
    return next(h for h in cam.timeline.handlings if h.record_id == record.id)


def at_the_plate(h: Handling) -> int:
    return round((h.t_touch + 0.1) * 1000)


def test_grips_are_drawn_per_interaction_from_the_seed_and_change_nothing_else() -> None:
    grips = [draw_grip(7, record_id, Nuisances()) for record_id in range(400)]
    turns, covers = [g.turn_deg for g in grips], [g.cover for g in grips]
    assert -25.0 <= min(turns) < -22.0 and 22.0 < max(turns) <= 25.0
    assert 0.0 <= min(covers) < 0.02 and 0.28 < max(covers) <= 0.3
    assert {g.edge for g in grips} == {LEFT, RIGHT, BOTTOM}  # never from the top: the arm comes from below
    assert all(abs(g.drift_deg) <= 6.0 for g in grips)
    assert draw_grip(7, 3, Nuisances()) == grips[3] != draw_grip(8, 3, Nuisances())
    a, b, still = camera(21), camera(22), camera(21, item_turn_deg=0.0, item_drift_deg=0.0, hand_cover=(0.0, 0.0))
    assert pasta_pick(a).grip != pasta_pick(b).grip
    # turning and covering the item has its own stream: the rest of the timeline is the same without it
    assert [dataclasses.replace(h, grip=Grip()) for h in a.timeline.handlings] == [
        dataclasses.replace(h, grip=Grip()) for h in still.timeline.handlings]
    assert {(h.grip.turn_deg, h.grip.cover) for h in still.timeline.handlings} == {(0.0, 0.0)}
    assert a.timeline.occlusions == still.timeline.occlusions


def test_the_item_shows_turned_as_drawn_and_two_seeds_turn_it_differently() -> None:
    measured = {}
    for seed in (21, 22):
        cam = camera(seed, hand_cover=(0.0, 0.0))
        h = pasta_pick(cam)
        ms = at_the_plate(h)
        frame = cam.render(ms).astype(np.float32)
        hand = h.hand_at(ms / 1000)
        assert hand is not None and h.turn_at(ms / 1000) == h.grip.turn_deg  # one turn while at the plate
        # the pack's own colour, in a box around where the hand holds it, is the item (nothing else has it)
        x, y, r = round(hand[0]), round(hand[1] - 0.1 * h.item_px), round(0.8 * h.item_px)
        box = frame[max(0, y - r) : y + r, max(0, x - r) : x + r]
        pack = np.asarray(sku_colour("pasta-500"), np.float32) * cam.look(ms).gain
        mask = (np.abs(box - pack).max(axis=2) < 18).astype(np.float32)
        held = cam.held_item(h, None, h.item_px, round(2 * h.grip.turn_deg) / 2)
        assert mask.sum() > 0.3 * float(held.alpha.sum())
        seen = _axis_turn(mask)
        assert abs(seen - h.grip.turn_deg) < 1.0, (seed, seen, h.grip)  # 0.0-0.2 measured (8 seeds)
        assert abs(held.turn_deg - h.grip.turn_deg) < 1.0
        measured[seed] = seen
    assert abs(measured[21] - measured[22]) > 5.0  # these two seeds drew turns 11 degrees apart or more


def test_the_turn_drifts_along_the_hand_path_only() -> None:
    h = pasta_pick(camera(23))
    at_plate = [h.turn_at(t / 100) for t in range(round(h.t_touch * 100), round(h.t_leave * 100))]
    assert set(at_plate) == {h.grip.turn_deg}
    assert h.turn_at(h.t_out) == pytest.approx(h.grip.turn_deg + h.grip.drift_deg)
    assert h.turn_at(h.t_in) == pytest.approx(h.grip.turn_deg + h.grip.drift_deg)


@pytest.mark.parametrize("seed", [21, 22, 24, 25])
def test_the_hand_covers_the_drawn_share_of_the_item(seed: int) -> None:
    cam, bare = camera(seed), camera(seed, hand_cover=(0.0, 0.0))
    h = pasta_pick(cam)
    ms = at_the_plate(h)
    held = cam.held_item(h, None, h.item_px, round(2 * h.grip.turn_deg) / 2)
    assert held.cover_share == pytest.approx(h.grip.cover, abs=0.01)  # 0.000-0.002 measured
    # in the frame: the same seed without the hand's cover differs only where the hand covers the item
    diff = np.abs(cam.render(ms).astype(np.float32) - bare.render(ms).astype(np.float32)).max(axis=2)
    changed = float((diff > 30).sum())
    assert changed / float(held.alpha.sum()) == pytest.approx(h.grip.cover, abs=0.02), (seed, h.grip)  # +0.001-0.015
    _, xs = np.nonzero(diff > 30)
    if h.grip.cover > 0.05:
        hand = h.hand_at(ms / 1000)
        assert hand is not None and abs(float(np.median(xs)) - hand[0]) < h.item_px  # on the item in the hand


@pytest.mark.skipif(not DEFAULT_IMAGES.is_dir(), reason=f"no product photos at {DEFAULT_IMAGES}")
def test_a_photo_item_is_turned_and_covered_as_drawn() -> None:
    library = PhotoLibrary(DEFAULT_IMAGES, "measure")
    for seed in (21, 22):
        cam = camera(seed, photos=library)
        record = first(list(cam.truth), "pick")  # the Granny Smith photo
        h = next(x for x in cam.timeline.handlings if x.record_id == record.id)
        assert h.photos and h.photos[0] is not None
        held = cam.held_item(h, h.photos[0], h.item_px, round(2 * h.grip.turn_deg) / 2)
        assert held.cover_share == pytest.approx(h.grip.cover, abs=0.03)
        upright = cam.held_item(h, h.photos[0], h.item_px, 0.0)
        assert held.side > upright.side or abs(h.grip.turn_deg) < 2.0  # the turned item needs a larger canvas
        assert held.side >= h.item_px * (abs(np.cos(np.radians(h.grip.turn_deg))) +
                                         abs(np.sin(np.radians(h.grip.turn_deg)))) - 1  # fmt: skip


def _axis_turn(mask: np.ndarray) -> float:
    """The turn (degrees, counter-clockwise on screen) of a blob's long axis from the vertical."""
    ys, xs = np.nonzero(mask > 0)
    x, y = xs - xs.mean(), ys - ys.mean()
    axis = 0.5 * np.degrees(np.arctan2(2 * (x * y).mean(), (x * x).mean() - (y * y).mean()))
    return float((90.0 - axis + 90.0) % 180.0 - 90.0)
