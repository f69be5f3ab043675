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


def test_the_vision_service_sees_a_live_rendered_pick(
    tmp_path: Path, shared_model_dir: Path, shared_images_dir: Path
) -> None:
    """The daemon's vision service on the live frame directory: the pick's apple is on plate p2."""
    import time

    from edge.config import NodeConfig
    from edge.sim.camera import LiveFrames
    from edge.sim.engine import Simulation, layout_for
    from edge.vision.service import VisionService
    from tests.plugins.waiting import wait_until

    scenario = shelf_scenario(PICK_AND_PUT[:1])
    start = time.time() + 1.5 - 3.0  # the pick (scenario second 3) starts 1.5 s from now
    truth = [r.shifted(start) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    camera = camera_for(scenario, truth, PLATES, images=shared_images_dir, split="held_out")
    pick = truth[0]
    frames = tmp_path / "frames"
    live = LiveFrames(camera, frames, until=pick.t_settled + 1.5).start()
    config = NodeConfig.model_validate(
        {
            "node": {"store_id": "s1", "node_id": "n1", "state_dir": str(tmp_path / "state")},
            "serial": {"port": "loop://"},
            "plates": [{"name": p.name, "channels": [i], "roi": p.roi()} for i, p in enumerate(camera.view.plates)],
            "camera": {"source": str(frames), "buffer_s": 10.0},
            "detector": {"model": str(shared_model_dir / "detect.tflite"),
                         "labels": str(shared_model_dir / "coco_labels.txt")},
        }
    )  # fmt: skip
    vision = VisionService(config)
    try:
        vision.start()
        vision.set_active(True)
        assert wait_until(lambda: time.time() > pick.t_settled + 1.2, timeout=15)
        evidence = vision.evidence(pick.t_start - 1.0, pick.t_settled + 1.0)
    finally:
        vision.stop()
        live.stop()
    assert live.error is None and live.frames_written >= 20
    assert vision.status().camera.camera_ok
    assert "apple" in evidence["p2"].labels, evidence
    assert evidence["p2"].frames >= 10
