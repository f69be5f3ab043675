"""The simulated shelf of bench/vision_loop.py: its planogram of label-distinct weight twins, the node config of its
5-plate camera view, and one seed's world (a capture replayed into weight events, the rendered camera as recorded
frames through the real detector, the truth). A helper module: no BENCHMARK; the teach phase
(bench/vision_loop_teach.py) and the scored seeds (bench/vision_loop.py) build the same world."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.fusion_run import write_true_calibration
from edge.config import NodeConfig, parse_config
from edge.model import WeightEvent
from edge.node.replay import Replay
from edge.planogram import Planogram, parse_planogram
from edge.sim.camera import camera_for
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.view import ShelfView
from edge.sim.catalogue import STORE, by_sku
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.offline import CaptureResult, simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.scenario import Item, Scenario, Slot
from edge.vision.recorded import RecordedCamera
from edge.weighing import CalibrationStore

PLATES = ("p1", "p2", "p3", "p4", "p5")
NOMINAL_FRAME_BYTES = 40_000  # a rendered frame's size counted by the ring before it is rendered (bounds never bind)


def twin_shelf() -> tuple[list[Item], list[Slot]]:
    """Label-distinct weight twins on p1 (orange / large apple, loose fruit) and p2 (1 L juice / 1 kg carrots);
    p3 bananas, p4 pasta + coffee (no label), p5 cans; three SKUs from elsewhere for misplaced put-backs."""
    store = by_sku(STORE)
    items = [
        Item(sku="orange", name="orange, loose", unit_g=205.0, variation=0.04, labels=["orange"], look="Orange"),
        Item(sku="apple-large", name="large apple, loose", unit_g=207.0, variation=0.04, labels=["apple"],
             look="Granny-Smith"),
        Item(sku="juice-1l", name="orange juice 1 L", unit_g=1038.0, variation=0.008, labels=["bottle"],
             look="Bravo-Orange-Juice"),
        Item(sku="carrots-1kg", name="carrots 1 kg", unit_g=1035.0, variation=0.008, labels=["carrot"],
             look="Carrots"),
        store["banana-bunch"], store["pasta-500"], store["coffee-250"], store["cola-330"],
        store["water-500"], store["rice-1kg"], store["granny-smith-1kg"],
    ]  # fmt: skip
    slots = [
        Slot(plate="p1", sku="orange", stock=14), Slot(plate="p1", sku="apple-large", stock=14),
        Slot(plate="p2", sku="juice-1l", stock=6), Slot(plate="p2", sku="carrots-1kg", stock=6),
        Slot(plate="p3", sku="banana-bunch", stock=6),
        Slot(plate="p4", sku="pasta-500", stock=6), Slot(plate="p4", sku="coffee-250", stock=8),
        Slot(plate="p5", sku="cola-330", stock=12),
    ]  # fmt: skip
    return items, slots


def node_config(model: Path, state_dir: Path | None = None) -> NodeConfig:
    view = ShelfView.grid(list(PLATES))
    state = f'state_dir = "{state_dir}"\n' if state_dir is not None else ""
    text = (f'[node]\nstore_id = "bench"\nnode_id = "vision1"\n{state}[serial]\nport = "loop://"\n'
            f'channels = {2 * len(PLATES)}\n[camera]\nsource = "rendered"\n[detector]\n'
            f'model = "{model / "detect.tflite"}"\nlabels = "{model / "coco_labels.txt"}"\n')
    for i, plate in enumerate(view.plates):
        roi = [list(xy) for xy in plate.roi()]
        text += f'[[plates]]\nname = "{plate.name}"\nchannels = [{2 * i}, {2 * i + 1}]\nroi = {roi}\n'
    return parse_config(text)


class _RenderedFrame:
    """A frame of the rendered camera, rendered and decoded only when something looks at it."""

    __slots__ = ("camera", "ms")

    def __init__(self, camera: RenderedCamera, ms: int) -> None:
        self.camera, self.ms = camera, ms

    @property
    def nbytes(self) -> int:
        return NOMINAL_FRAME_BYTES

    def decode(self, into: np.ndarray | None = None) -> np.ndarray:
        from edge.hw.jpeg import decode_jpeg

        return decode_jpeg(np.frombuffer(self.camera.jpeg(self.ms), np.uint8), f"{self.ms}.jpg", into)


class RenderedFrames:
    """The rendered camera as RecordedFrames (edge.vision.recorded): its frame times over [t0, t1]."""

    def __init__(self, camera: RenderedCamera, t0: float, t1: float) -> None:
        self.camera = camera
        self._times = camera.frame_times(t0, t1)

    def times_ms(self) -> Sequence[int]:
        return self._times

    def load(self, ms: int) -> _RenderedFrame:
        return _RenderedFrame(self.camera, ms)


@dataclass
class SeedWorld:
    """One seed's shelf: weight events replayed from its capture, the rendered camera's frames as the replay's
    RecordedCamera (real detector, plate windows of `crop_scale`), the planogram and the truth."""

    seed: int
    config: NodeConfig
    scenario: Scenario
    result: CaptureResult
    events: list[tuple[float, WeightEvent]]
    rendered: RenderedCamera
    recorded: RecordedCamera
    planogram: Planogram

    @property
    def plates(self) -> list[str]:
        return self.config.plate_names()

    @property
    def truth(self) -> list[Any]:
        return list(self.result.truth)

    def labels(self) -> dict[str, frozenset[str]]:
        return {item.sku: frozenset(item.labels) for item in self.scenario.items}


def seed_world(seed: int, interactions: int, workdir: Path, model: Path, images: Path, split: str, sps: float,
               crop_scale: float) -> SeedWorld:
    from edge.vision.detector import Detector
    from edge.vision.regions import regions_from_config

    config = node_config(model, workdir / f"{seed}.state")
    items, slots = twin_shelf()
    roles = {"p1": "mixed", "p2": "mixed"}
    scenario: Scenario = generate_mixed_scenario(seed, config.plate_names(), interactions, items=items, slots=slots,
                                                 roles=roles, name=f"vision-loop-{seed}")
    capture, truth_path = workdir / f"{seed}.cap", workdir / f"{seed}.jsonl"
    result = simulate_to_capture(scenario, capture, truth_path, sps=sps, config=config)
    calibration = workdir / f"{seed}.calibration.json"
    write_true_calibration(capture, calibration)
    events = list(Replay(config, capture, CalibrationStore(calibration, read_only=True)).events())
    rendered = camera_for(scenario, result.truth, config.plates, images=images, split=split)  # type: ignore[arg-type]
    t_first, t_last = result.truth[0].t_start - 5.0, max(r.t_settled for r in result.truth) + 10.0
    assert config.camera is not None and config.detector is not None
    recorded = RecordedCamera(RenderedFrames(rendered, t_first, t_last), config.camera, Detector.load(config.detector),
                              regions_from_config(config.plates), config.detector.hand_label,
                              config.detector.roi_min_overlap, crop_scale)  # as replay_vision.recorded_camera
    planogram = parse_planogram(json.dumps(planogram_document(scenario)), config.plate_names())
    return SeedWorld(seed, config, scenario, result, events, rendered, recorded, planogram)
