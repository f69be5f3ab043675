"""Vision in the loop (issue 13): item events from rendered camera frames through the real detector, against
weight + planogram only and the statistical camera, on the same weight events in the same run.

Per seed: a shelf with label-distinct weight twins (an orange and a large apple of the same weight on one plate;
a 1 L juice and a 1 kg bag of carrots on another) and three plates of other SKUs; interactions from the fusion
mix (edge.sim.fusion_mix), the capture replayed through the node's parser + Weigher (true calibration), and for
every weight event three kinds of evidence for the same FusionStage:

* `weight_planogram`: no camera (`camera_ok` None: the items rest on weight and planogram);
* `statistical`: the statistical camera (edge.sim.stat_camera, rates measured on the photos' measure half);
* `rendered`: the rendered camera's frames (edge.sim.camera, photos of the **held-out** half) through the real
  detector, the vision ring and evidence, as `replay --frames` runs them (edge.node.replay_vision), on the
  capture's clock.

Seeds: `tune` (301, 302) for choosing anything; `report` (401, 402) are the documented figures.

    scripts/bench vision_loop [--quick]
    .venv/bin/python -m bench.vision_loop --seeds tune --interactions 160
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.benchmark import Benchmark
from bench.fusion_run import maintenance_windows, write_true_calibration
from bench.item_scoring import judge, match_items, review_summary, unit_f1
from bench.vision_loop_rates import (
    RATES_FILE,
    RATES_PER_SKU,
    RATES_SEED,
    load_rendered_rates,
    measure_rendered_rates,
    save_rendered_rates,
)
from bench.vision_loop_report import (
    CAMERA_MODES,
    MODES,
    PI4_FACTOR,
    SEEDS,
    ModeScore,
    SeedRun,
    TwinScore,
    VisionLoopResult,
    render_markdown,
)
from edge.config import NodeConfig, parse_config
from edge.model import WeightEventRef
from edge.node.replay import Replay
from edge.node.replay_vision import evidence_for
from edge.planogram import parse_planogram
from edge.sim.camera import camera_for
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.view import ShelfView
from edge.sim.catalogue import STORE, by_sku
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.offline import simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.scenario import Item, Scenario, Slot
from edge.sim.stat_camera import CameraRates, StatisticalCamera
from edge.vision.recorded import RecordedCamera
from edge.weighing import CalibrationStore

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO.parent / "shared" / "images"
MODEL = REPO.parent / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"
PLATES = ("p1", "p2", "p3", "p4", "p5")
CROP_SCALE = 2.0  # [detector] crop_scale of the rendered_crop mode (chosen on the tuning seed 301, measure photos)
NOMINAL_FRAME_BYTES = 40_000  # a rendered frame's size counted by the ring before it is rendered (bounds never bind)
__all__ = ["CAMERA_MODES", "MODES", "SEEDS", "VisionLoopResult", "render_markdown", "run", "twin_shelf"]


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


def node_config(model: Path) -> NodeConfig:
    view = ShelfView.grid(list(PLATES))
    text = (f'[node]\nstore_id = "bench"\nnode_id = "vision1"\n[serial]\nport = "loop://"\n'
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


def _twin_truth_ids(judged: Sequence[Any], labels: Mapping[str, frozenset[str]]) -> set[int]:
    """Truth ids of single-truth events flagged `twin` whose answer and top alternative carry different labels."""
    ids = set()
    for j in judged:
        e = j.event
        if "twin" not in e.review_reasons or len(j.truths) != 1 or not e.alternatives or not e.lines:
            continue
        mine = frozenset().union(*(labels.get(line.sku, frozenset()) for line in e.lines))
        rival = frozenset().union(*(labels.get(line.sku, frozenset()) for line in e.alternatives[0].lines))
        if mine and rival and mine != rival:
            ids.add(j.truths[0].id)
    return ids


SeedOutput = tuple[SeedRun, dict[str, list[Any]], list[Any], dict[str, frozenset[str]]]


def one_seed(seed: int, interactions: int, workdir: Path, model: Path, images: Path, split: str, sps: float,
             rendered_rates: CameraRates, crop_scale: float = CROP_SCALE) -> SeedOutput:
    """Item events of every mode on one simulated shelf (plus its truth and the SKUs' labels)."""
    from edge.fusion import FusionSettings, FusionStage

    started = time.perf_counter()
    config = node_config(model)
    plates = config.plate_names()
    items, slots = twin_shelf()
    roles = {"p1": "mixed", "p2": "mixed"}
    scenario: Scenario = generate_mixed_scenario(seed, plates, interactions, items=items, slots=slots, roles=roles,
                                                 name=f"vision-loop-{seed}")
    capture, truth_path = workdir / f"{seed}.cap", workdir / f"{seed}.jsonl"
    result = simulate_to_capture(scenario, capture, truth_path, sps=sps, config=config)
    calibration = workdir / f"{seed}.calibration.json"
    write_true_calibration(capture, calibration)
    events = list(Replay(config, capture, CalibrationStore(calibration, read_only=True)).events())
    rendered = camera_for(scenario, result.truth, config.plates, images=images, split=split)  # type: ignore[arg-type]
    t_first, t_last = result.truth[0].t_start - 5.0, max(r.t_settled for r in result.truth) + 10.0
    assert config.camera is not None and config.detector is not None
    from edge.vision.detector import Detector

    recorded = RecordedCamera(RenderedFrames(rendered, t_first, t_last), config.camera, Detector.load(config.detector),
                              _regions(config), config.detector.hand_label, config.detector.roi_min_overlap,
                              crop_scale)  # as replay_vision.recorded_camera with [detector] crop_scale
    statistical = StatisticalCamera(result.truth, scenario.items, plates, seed)
    restated = StatisticalCamera(result.truth, scenario.items, plates, seed, rendered_rates)
    planogram = parse_planogram(json.dumps(planogram_document(scenario)), plates)
    stages = {mode: FusionStage(plates, planogram, FusionSettings()) for mode in MODES}
    outputs: dict[str, list[Any]] = {mode: [] for mode in MODES}
    maintenance = maintenance_windows(result.truth)
    with_frames = down = 0
    for index, (t_emit, event) in enumerate(events):
        on = any(t0 <= event.t_start <= t1 for t0, t1 in maintenance)
        found = statistical.evidence(event.t_start - 1.0, event.t_end + 1.0)
        found_again = restated.evidence(event.t_start - 1.0, event.t_end + 1.0)
        camera_ok, cropped = evidence_for(recorded, event, t_emit)  # whole frames + the touched plates' windows
        whole = {p: ev for p, ev in recorded.evidence(event.t_start - 1.0, event.t_end + 1.0).items()
                 if p in event.plate_deltas} if camera_ok else {}  # the same frames' whole-frame detections
        with_frames += bool(whole and any(ev.frames for ev in whole.values()))
        down += not camera_ok
        inputs = {"weight_planogram": (None, None), "statistical": (found, found is not None),
                  "statistical_rendered_rates": (found_again, found_again is not None),
                  "rendered": (whole, camera_ok), "rendered_crop": (cropped, camera_ok)}
        for mode, stage in stages.items():
            stage.set_maintenance(on)
            evidence, ok = inputs[mode]
            outputs[mode] += stage.on_weight_event(event, evidence, ok, t_emit, WeightEventRef(None, index))
            outputs[mode] += stage.poll(t_emit)
    for mode, stage in stages.items():
        outputs[mode] += stage.flush()
    stats = recorded.stats()
    shopper = sum(r.expect_event for r in result.truth)
    run = SeedRun(seed, shopper, len(events), stats.detected, stats.windows, stats.detect_ms, stats.decode_ms,
                  with_frames, down,
                  time.perf_counter() - started)
    labels = {item.sku: frozenset(item.labels) for item in scenario.items}
    return run, outputs, list(result.truth), labels


def _regions(config: NodeConfig) -> list[Any]:
    from edge.vision.regions import regions_from_config

    return regions_from_config(config.plates)


def run(seeds: Sequence[int] = SEEDS["report"], interactions: int = 160, sps: float = 80.0, split: str = "held_out",
        model: Path = MODEL, images: Path = IMAGES, crop_scale: float = CROP_SCALE) -> VisionLoopResult:
    from bench.machine import load_average

    load = load_average()
    rendered_rates = load_rendered_rates()
    runs: list[SeedRun] = []
    judged_by_mode: dict[str, list[Any]] = {m: [] for m in MODES}
    groups_by_mode: dict[str, list[Any]] = {m: [] for m in MODES}
    twins_events = twins_up = 0
    settled = dict.fromkeys(MODES, 0)
    settled_up = dict.fromkeys(MODES, 0)
    wrong = dict.fromkeys(MODES, 0)
    with tempfile.TemporaryDirectory(prefix="vision-loop-") as tmp:
        for seed in seeds:
            one, outputs, truth, labels = one_seed(seed, interactions, Path(tmp), model, images, split, sps,
                                                   rendered_rates, crop_scale)
            runs.append(one)
            by_truth: dict[str, dict[int, Any]] = {}
            for mode in MODES:
                groups = match_items(outputs[mode], truth)
                judged = judge(groups)
                groups_by_mode[mode] += groups
                judged_by_mode[mode] += judged
                by_truth[mode] = {j.truths[0].id: j for j in judged if len(j.truths) == 1}
            twin_ids = _twin_truth_ids(list(by_truth["weight_planogram"].values()), labels)
            twins_events += len(twin_ids)
            up = {i for i in twin_ids if (j := by_truth["rendered"].get(i)) and j.event.vision.get("camera") == "ok"}
            twins_up += len(up)
            for mode in MODES:
                for truth_id in twin_ids:
                    j = by_truth[mode].get(truth_id)
                    if j is not None and not j.event.review_required:
                        settled[mode] += j.correct
                        settled_up[mode] += j.correct and truth_id in up
                        wrong[mode] += not j.correct
    modes = {m: ModeScore(unit_f1(groups_by_mode[m]), review_summary(judged_by_mode[m])) for m in MODES}
    twins = TwinScore(twins_events, settled, wrong, twins_up, settled_up)
    return VisionLoopResult(tuple(seeds), split, tuple(runs), modes, twins, PI4_FACTOR, load, crop_scale)


def _unavailable() -> str | None:
    if not (MODEL / "detect.tflite").is_file():
        return f"needs the shared model at {MODEL}"
    if not IMAGES.is_dir():
        return f"needs the shared photos at {IMAGES}"
    return None


BENCHMARK = Benchmark(
    name="vision_loop",
    title="Vision in the loop: rendered frames through the real detector vs weight only and the statistical camera",
    run=run,
    render=render_markdown,
    quick={"seeds": (401,), "interactions": 40},
    full={"seeds": SEEDS["report"], "interactions": 160},
    unavailable=_unavailable,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", choices=sorted(SEEDS), default="report")
    parser.add_argument("--interactions", type=int, default=160)
    parser.add_argument("--split", choices=["held_out", "measure"], default="held_out")
    parser.add_argument("--sps", type=float, default=80.0)
    parser.add_argument("--crop-scale", type=float, default=CROP_SCALE)
    parser.add_argument("--measure-rates", action="store_true",
                        help=f"re-measure the statistical camera's rates on rendered frames into {RATES_FILE.name}")
    args = parser.parse_args()
    if args.measure_rates:
        rates = measure_rendered_rates(args.crop_scale)
        save_rendered_rates(rates, tour_seed=RATES_SEED, per_sku=RATES_PER_SKU, split="measure",
                            crop_scale=args.crop_scale, view=f"{len(PLATES)} plates")
        print(f"wrote {RATES_FILE}")
        return 0
    result = run(SEEDS[args.seeds], args.interactions, args.sps, args.split, crop_scale=args.crop_scale)
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
