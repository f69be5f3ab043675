"""The rendered camera through the real detector (../shared models and photos; skipped without them):
a composited apple is detected as "apple" on the plate it was picked from; a painted pack is not."""

from __future__ import annotations

from pathlib import Path

from edge.sim.camera import camera_for
from edge.sim.camera.measure import rates_by, sightings
from edge.vision.detector import Detector
from tests.sim.test_camera_render import PICK_AND_PUT, PLATES, shelf_scenario, truth_of


def detector(model_dir: Path) -> Detector:
    return Detector.from_files(model_dir / "detect.tflite", model_dir / "coco_labels.txt")


def test_a_composited_apple_is_seen_on_its_plate(shared_model_dir: Path, shared_images_dir: Path) -> None:
    scenario = shelf_scenario(PICK_AND_PUT[:2])
    truth = truth_of(scenario)
    camera = camera_for(scenario, truth, PLATES, images=shared_images_dir, split="held_out")
    handled = [h for h in camera.timeline.handlings if h.sku == "granny-smith-1kg"]
    assert all(p is not None and p.family == "Granny-Smith" for h in handled for p in h.photos)
    seen = sightings(camera, truth, detector(shared_model_dir))
    assert [s.sku for s in seen] == ["granny-smith-1kg", "granny-smith-1kg"]
    assert all(s.frames >= 20 for s in seen)
    assert sum(s.hit for s in seen) >= 1, [s.evidence for s in seen]
    assert rates_by(seen)["apple"].hit_rate >= 0.5


def test_a_painted_pack_shows_no_apple(shared_model_dir: Path) -> None:
    scenario = shelf_scenario(PICK_AND_PUT[:2])
    truth = truth_of(scenario)
    camera = camera_for(scenario, truth, PLATES, images=None)
    seen = sightings(camera, truth, detector(shared_model_dir))
    assert len(seen) == 2 and not any(s.hit for s in seen)


def test_frames_with_photos_are_deterministic(shared_images_dir: Path) -> None:
    scenario = shelf_scenario(PICK_AND_PUT[:1])
    truth = truth_of(scenario)
    a = camera_for(scenario, truth, PLATES, images=shared_images_dir)
    b = camera_for(scenario, truth, PLATES, images=shared_images_dir)
    window = (truth[0].t_start, truth[0].t_settled)
    assert dict(a.frames(*window)) == dict(b.frames(*window))
