"""Replay with frames when the camera is lost in the middle of an event: the item event says
`camera_unavailable` (weight and planogram only), never a crash. Painted frames and a fake detector: runs
without ../shared."""

from __future__ import annotations

from pathlib import Path

from edge.config import parse_config
from edge.config.detector import DetectorSection
from edge.node.items import ItemStep
from edge.node.replay import Replay
from edge.node.replay_vision import evidence_for
from edge.planogram import load_planogram_file
from edge.sim.camera.view import ShelfView
from edge.vision.detector import Detector
from edge.vision.recorded import FrameDirectory, RecordedCamera
from edge.vision.regions import regions_from_config
from edge.weighing import CalibrationStore
from tests.node.frames_shelf import ORANGE, PLATES, record_with_frames, twin_scenario
from tests.vision.fakes import FakeInterpreter, ssd_outputs


def orange_on_p2() -> Detector:
    """A detector that sees an orange on plate p2 in every frame."""
    view = ShelfView.grid(PLATES)
    xs, ys = zip(*view.plates[1].roi(), strict=True)
    box = [min(ys) / view.height, min(xs) / view.width, max(ys) / view.height, max(xs) / view.width]
    interpreter = FakeInterpreter(ssd_outputs([box], [1], [0.8]))
    return Detector(interpreter, {0: "person", 1: "orange"},
                    DetectorSection(model=Path("fake.tflite"), labels=Path("l.txt")))


def replay_items(paths: dict[str, Path]) -> list:
    config = parse_config(paths["config"].read_text())
    assert config.camera is not None
    camera = RecordedCamera(FrameDirectory(paths["frames"]), config.camera, orange_on_p2(),
                            regions_from_config(config.plates))
    step = ItemStep(config, planogram=load_planogram_file(paths["planogram"], config.plate_names()))
    items = []
    run = Replay(config, paths["capture"], CalibrationStore(paths["calibration"], read_only=True))
    for index, (t_emit, event) in enumerate(run.events(), start=1):
        camera_ok, evidence = evidence_for(camera, event, t_emit)
        items += step.weight_event(event, evidence, camera_ok, t_emit, None, index)
    return items + step.flush()


def test_camera_lost_during_an_event_gives_camera_unavailable(tmp_path: Path) -> None:
    actions = [{"at": 4.0, "kind": "pick", "plate": "p2", "sku": ORANGE},
               {"at": 4.6, "kind": "camera_down", "duration_s": 20.0},
               {"at": 28.0, "kind": "pick", "plate": "p2", "sku": ORANGE}]
    paths = record_with_frames(tmp_path, twin_scenario(actions), None, None)
    lost, back = replay_items(paths)
    assert lost.vision["camera"] == "down" and "camera_unavailable" in lost.review_reasons, lost
    assert lost.review_required
    assert back.vision["camera"] == "ok" and [line.sku for line in back.lines] == [ORANGE], back


def test_no_frames_at_all_is_camera_unavailable_not_a_crash(tmp_path: Path) -> None:
    paths = record_with_frames(tmp_path, twin_scenario([{"at": 4.0, "kind": "pick", "plate": "p2", "sku": ORANGE}]),
                               None, None)
    for frame in paths["frames"].iterdir():
        frame.unlink()
    (item,) = replay_items(paths)
    assert item.vision["camera"] == "down" and "camera_unavailable" in item.review_reasons
