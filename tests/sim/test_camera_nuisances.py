"""Every nuisance of the rendered camera happens, deterministically from the seed: browsing hands with no item,
shoppers in front, light changes, sensor noise and JPEG quality per frame, motion blur of a moving hand,
dropped frames and the camera lost for a stretch."""

from __future__ import annotations

import numpy as np
import pytest

from edge.sim.camera import RenderedCamera, renderer
from edge.sim.scenario import Scenario
from tests.sim.test_camera_render import PICK_AND_PUT, first, painted_camera, shelf_scenario, truth_of


def busy_camera(scenario: Scenario, seed: int | None = None) -> RenderedCamera:
    """Every nuisance far more often than by default, so that a short scenario shows each of them."""
    return painted_camera(scenario, seed, browse_per_s=0.1, passer_by_per_s=0.05, drop_frame=0.2,
                          light_change_per_s=0.05, occluded_interaction=1.0)


def test_each_nuisance_shows_and_is_the_same_for_the_same_seed() -> None:
    scenario = shelf_scenario(PICK_AND_PUT)
    camera = busy_camera(scenario)
    again = busy_camera(scenario)
    assert camera.timeline == again.timeline
    browsing = [h for h in camera.timeline.handlings if h.kind == "browse"]
    assert browsing and all(h.sku is None and h.record_id is None and not any(h.photos) for h in browsing)
    occluded = [h for h in camera.timeline.handlings if h.record_id is not None
                and any(o.t0 <= h.t_touch <= o.t1 for o in camera.timeline.occlusions)]
    assert occluded  # the shopper's body in front while a hand is at a plate
    t0, t1 = truth_of(scenario)[0].t_start - 3, truth_of(scenario)[-1].t_settled
    looks = [camera.look(ms) for ms in range(round(t0 * 1000), round(t1 * 1000), 1000)]
    assert looks == [again.look(ms) for ms in range(round(t0 * 1000), round(t1 * 1000), 1000)]
    assert max(abs(look.gain - 1) for look in looks) > 0.15  # a light change (plain drift stays within ~0.08)
    assert len({look.jpeg_quality for look in looks}) > 5 and len({round(look.noise_sigma, 2) for look in looks}) > 5
    scheduled = [ms for ms in range(round(t0 * 1000), round(t1 * 1000)) if ms % 100 == 0]
    delivered = camera.frame_times(t0, t1)
    dropped = [ms for ms in scheduled if ms not in delivered and not camera.timeline.camera_lost(ms / 1000)]
    assert dropped and delivered == again.frame_times(t0, t1)
    lost = first(truth_of(scenario), "camera")
    assert not camera.frame_times(lost.t_start, lost.t_settled)  # camera lost for the stretch
    other = busy_camera(scenario, scenario.seed + 1)
    assert other.timeline != camera.timeline and other.frame_times(t0, t1) != delivered


def test_a_moving_hand_is_blurred_along_its_path(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = shelf_scenario(PICK_AND_PUT[:1])
    camera = painted_camera(scenario)
    (pick,) = [h for h in camera.timeline.handlings if h.record_id is not None]
    moving = round((pick.t_in + pick.t_touch) / 2 * 1000)  # reaching in: the hand moves up the picture
    still = round((pick.t_touch + pick.t_leave) / 2 * 1000)  # at the plate: it hardly moves
    hand = pick.hand_at(moving / 1000)
    assert hand is not None
    x, y = round(hand[0]), round(hand[1])

    def sharpness(image: np.ndarray) -> float:  # vertical contrast around the hand (the motion is vertical)
        window = image.astype(np.float32).mean(axis=2)[y - 50 : y + 50, x - 50 : x + 50]
        return float(np.abs(np.diff(window, axis=0)).sum())

    blurred, blurred_still = camera.render(moving), camera.render(still)
    monkeypatch.setattr(renderer, "EXPOSURE_S", 0.0)  # an instant exposure: no blur
    sharp, sharp_still = camera.render(moving), camera.render(still)
    assert sharpness(blurred) < 0.99 * sharpness(sharp)
    assert np.array_equal(blurred_still, sharp_still)
