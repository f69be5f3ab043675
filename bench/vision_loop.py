"""Vision in the loop (issue 13): item events from rendered camera frames through the real detector, against
weight + planogram only and the statistical camera, on the same weight events in the same run.

Per seed: a shelf with label-distinct weight twins (an orange and a large apple of the same weight on one plate;
a 1 L juice and a 1 kg bag of carrots on another) and three plates of other SKUs; interactions from the fusion
mix (edge.sim.fusion_mix), the capture replayed through the node's parser + Weigher (true calibration), and for
every weight event each kind of evidence for its own FusionStage:

* `weight_planogram`: no camera (`camera_ok` None: the items rest on weight and planogram);
* `statistical`: the statistical camera (edge.sim.stat_camera, rates measured on the photos' measure half);
* `rendered`: the rendered camera's frames (edge.sim.camera, photos of the **held-out** half) through the real
  detector, the vision ring and evidence, as `replay --frames` runs them (edge.node.replay_vision), on the
  capture's clock;
* `rendered_crop`: the same, also detecting on a window around each touched plate (`[detector] crop_scale` 2);
* `rendered_crop_appearance`: rendered_crop plus the node's learned appearance, as `replay --frames --gallery`
  runs it (edge.node.replay_appearance: the daemon's AppearanceFeed, splitters built once from a gallery). The
  gallery is taught first (bench/vision_loop_teach.py) on the tuning seeds rendered with the **measure**
  photos, through the same detector and replay code, its crops labelled as the node and its reviewer would.

Seeds: `tune` (301, 302) for choosing anything and for the teach phase; `report` (401, 402) are the documented
figures (held-out photos; nothing is chosen on them).

    scripts/bench vision_loop [--quick]
    .venv/bin/python -m bench.vision_loop --seeds tune --interactions 160     # no teach phase then
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.benchmark import Benchmark
from bench.fusion_run import maintenance_windows
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
    AppearanceScore,
    ModeScore,
    SeedRun,
    TwinScore,
    VisionLoopResult,
    render_markdown,
)
from bench.vision_loop_teach import TeachResult, teach
from bench.vision_loop_world import PLATES, RenderedFrames, node_config, seed_world, twin_shelf
from edge.gallery.frozen import FrozenGallery
from edge.model import WeightEventRef
from edge.node.appearance_feed import Embedder, LazyEmbedder
from edge.node.replay_appearance import ReplayAppearance
from edge.node.replay_vision import evidence_for
from edge.sim.stat_camera import CameraRates, StatisticalCamera

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO.parent / "shared" / "images"
MODEL = REPO.parent / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"
CROP_SCALE = 2.0  # [detector] crop_scale of the rendered_crop mode (chosen on the tuning seed 301, measure photos)
APPEARANCE_MODE = "rendered_crop_appearance"
__all__ = ["CAMERA_MODES", "MODES", "PLATES", "SEEDS", "RenderedFrames", "VisionLoopResult", "node_config",
           "render_markdown", "run", "twin_shelf"]


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


@dataclass
class AppearanceTally:
    """What the appearance mode did on one seed: describe() costs, item events that carry a vote."""

    wall_ms: list[float] = field(default_factory=list)  # per event with a trusted touched plate
    cpu_ms: list[float] = field(default_factory=list)
    untouched_ms: list[float] = field(default_factory=list)  # per event without one (nothing to describe)
    trusted: tuple[str, ...] = ()
    plates: tuple[Any, ...] = ()  # (plate, look-alike SKUs, examples per SKU, trusted, LOO accuracy, needed more)
    described: int = 0
    not_seen: int = 0
    look_alikes: tuple[str, ...] = ()
    probe_ms: list[tuple[float, float, float]] = field(default_factory=list)  # (wall, CPU, embed wall) ms


SeedOutput = tuple[SeedRun, dict[str, list[Any]], list[Any], dict[str, frozenset[str]], AppearanceTally]


def one_seed(seed: int, interactions: int, workdir: Path, model: Path, images: Path, split: str, sps: float,
             rendered_rates: CameraRates, crop_scale: float = CROP_SCALE, gallery: FrozenGallery | None = None,
             embedder: Embedder | None = None) -> SeedOutput:
    """Item events of every mode on one simulated shelf (plus its truth, the SKUs' labels and what the appearance
    mode did). Without `gallery` the appearance mode is rendered_crop's events again (no splitter)."""
    from edge.fusion import FusionSettings, FusionStage

    started = time.perf_counter()
    world = seed_world(seed, interactions, workdir, model, images, split, sps, crop_scale)
    plates, recorded, truth = world.plates, world.recorded, world.truth
    statistical = StatisticalCamera(truth, world.scenario.items, plates, seed)
    restated = StatisticalCamera(truth, world.scenario.items, plates, seed, rendered_rates)
    stages = {mode: FusionStage(plates, world.planogram, FusionSettings()) for mode in MODES}
    appearance = None
    tally = AppearanceTally()
    if gallery is not None:  # replay --gallery's code: the splitters built once from the teach gallery
        appearance = ReplayAppearance.build(world.config, recorded, stages[APPEARANCE_MODE], lambda: world.planogram,
                                            gallery, embedder)
        accuracy = {r.plate: r.accuracy for r in appearance.feed.splitter.reports()}
        tally.plates = tuple((p["plate"], tuple(p["skus"]), dict(p["examples"]), bool(p["trusted"]),
                              accuracy.get(p["plate"]), p["needed_more"]) for p in appearance.feed.status()["plates"])
        tally.trusted = tuple(p[0] for p in tally.plates if p[3])
        tally.look_alikes = tuple(p[0] for p in tally.plates)
    outputs: dict[str, list[Any]] = {mode: [] for mode in MODES}
    maintenance = maintenance_windows(truth)
    with_frames = down = 0
    for index, (t_emit, event) in enumerate(world.events):
        on = any(t0 <= event.t_start <= t1 for t0, t1 in maintenance)
        found = statistical.evidence(event.t_start - 1.0, event.t_end + 1.0)
        found_again = restated.evidence(event.t_start - 1.0, event.t_end + 1.0)
        camera_ok, cropped = evidence_for(recorded, event, t_emit)  # whole frames + the touched plates' windows
        whole = {p: ev for p, ev in recorded.evidence(event.t_start - 1.0, event.t_end + 1.0).items()
                 if p in event.plate_deltas} if camera_ok else {}  # the same frames' whole-frame detections
        with_frames += bool(whole and any(ev.frames for ev in whole.values()))
        down += not camera_ok
        described = _describe(appearance, event, cropped, tally) if appearance is not None and cropped else cropped
        inputs = {"weight_planogram": (None, None), "statistical": (found, found is not None),
                  "statistical_rendered_rates": (found_again, found_again is not None),
                  "rendered": (whole, camera_ok), "rendered_crop": (cropped, camera_ok),
                  APPEARANCE_MODE: (described, camera_ok)}
        for mode, stage in stages.items():
            stage.set_maintenance(on)
            evidence, ok = inputs[mode]
            outputs[mode] += stage.on_weight_event(event, evidence, ok, t_emit, WeightEventRef(None, index))
            outputs[mode] += stage.poll(t_emit)
    for mode, stage in stages.items():
        outputs[mode] += stage.flush()
    if appearance is not None:
        counters = appearance.feed.counters
        tally.described, tally.not_seen = counters["described"], counters["not_seen"]
    stats = recorded.stats()
    shopper = sum(r.expect_event for r in truth)
    run = SeedRun(seed, shopper, len(world.events), stats.detected, stats.windows, stats.detect_ms, stats.decode_ms,
                  with_frames, down, time.perf_counter() - started)
    return run, outputs, truth, world.labels(), tally


def _describe(appearance: ReplayAppearance, event: Any, evidence: dict[str, Any], tally: AppearanceTally) -> Any:
    """The daemon's describe, timed (wall and this thread's CPU): only events on a trusted plate do any work."""
    wall, cpu = time.perf_counter(), time.thread_time()
    out = appearance.describe(event, evidence)
    wall_ms, cpu_ms = (time.perf_counter() - wall) * 1000.0, (time.thread_time() - cpu) * 1000.0
    if any(p in tally.trusted for p in evidence):
        tally.wall_ms.append(wall_ms)
        tally.cpu_ms.append(cpu_ms)
    else:
        tally.untouched_ms.append(wall_ms)
        waiting = sorted(p for p in evidence if p in tally.look_alikes)  # not trusted yet: what it will cost
        if waiting:
            tally.probe_ms += _probe(appearance, event, waiting)
    return out


def _probe(appearance: ReplayAppearance, event: Any, plates: list[str]) -> list[tuple[float, float, float]]:
    """(wall, CPU, wall of the embedding alone) ms of what describe() does for these plates once trusted (the
    crop chosen, cut, decoded, described by the same embedder); measured only: the result is dropped."""
    from edge.gallery.crops import choose, cut_all
    from edge.hw.jpeg import decode_jpeg

    feed = appearance.feed
    if isinstance(feed.embedder, LazyEmbedder) and not feed.embedder.loaded:  # its one-off load is not per event
        feed.embedder.describe([np.zeros((64, 64, 3), np.uint8)])
    wall, cpu = time.perf_counter(), time.thread_time()
    frames = feed.vision.frames_between(event.t_start - 1.0, event.t_end + 1.0)
    planogram = feed.planogram()
    labels: dict[str, tuple[str, ...]] = {}  # as describe(): the labels of the plate's SKUs are preferred
    for plate in plates:
        skus = [slot.sku for slot in planogram.plates.get(plate, [])] if planogram is not None else []
        labels[plate] = tuple(dict.fromkeys(label for sku in skus for label in planogram.item(sku).labels)) \
            if planogram is not None else ()
    crops = cut_all(choose(frames, feed.vision.regions, plates, labels, feed.vision.hand_label,
                           feed.vision.min_overlap), feed.settings)
    cut_wall = time.perf_counter()
    for crop in crops:
        feed.embedder.describe([decode_jpeg(np.frombuffer(crop.jpeg, np.uint8), "probe")])
    if not crops:
        return []
    end = time.perf_counter()
    return [((end - wall) * 1000.0, (time.thread_time() - cpu) * 1000.0, (end - cut_wall) * 1000.0)]


def run(seeds: Sequence[int] = SEEDS["report"], interactions: int = 160, sps: float = 80.0, split: str = "held_out",
        model: Path = MODEL, images: Path = IMAGES, crop_scale: float = CROP_SCALE,
        teach_seeds: Sequence[int] = SEEDS["tune"], teach_interactions: int | None = None) -> VisionLoopResult:
    """`teach_seeds`: the seeds (measure photos) whose events teach the gallery of the appearance mode; () for
    none (that mode then equals rendered_crop). `teach_interactions`: per teach seed (default `interactions`)."""
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
    tallies: list[AppearanceTally] = []
    votes = votes_untrusted = 0
    taught: TeachResult | None = None
    with tempfile.TemporaryDirectory(prefix="vision-loop-") as tmp:
        gallery = embedder = None
        if teach_seeds:
            if set(teach_seeds) & set(seeds):
                raise ValueError(f"teach seeds {list(teach_seeds)} overlap the scored seeds {list(seeds)}")
            path, taught = teach(teach_seeds, teach_interactions or interactions, Path(tmp), model, images, sps,
                                 crop_scale)
            gallery, embedder = FrozenGallery.from_file(path), LazyEmbedder(model / "detect.tflite")
        for seed in seeds:
            one, outputs, truth, labels, tally = one_seed(seed, interactions, Path(tmp), model, images, split, sps,
                                                          rendered_rates, crop_scale, gallery, embedder)
            runs.append(one)
            tallies.append(tally)
            for item in outputs[APPEARANCE_MODE]:
                vote = item.vision.get("appearance")
                if vote:
                    votes += 1
                    votes_untrusted += vote["plate"] not in tally.trusted
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
        if gallery is not None:
            gallery.close()
    modes = {m: ModeScore(unit_f1(groups_by_mode[m]), review_summary(judged_by_mode[m])) for m in MODES}
    twins = TwinScore(twins_events, settled, wrong, twins_up, settled_up)
    score = _appearance_score(taught, tallies, votes, votes_untrusted, load_average())
    return VisionLoopResult(tuple(seeds), split, tuple(runs), modes, twins, PI4_FACTOR, load, crop_scale, score)


def _appearance_score(taught: TeachResult | None, tallies: Sequence[AppearanceTally], votes: int,
                      untrusted: int, load_end: tuple[float, float, float]) -> AppearanceScore:
    wall = [ms for t in tallies for ms in t.wall_ms]
    cpu = [ms for t in tallies for ms in t.cpu_ms]
    idle = [ms for t in tallies for ms in t.untouched_ms]
    probe = [pair for t in tallies for pair in t.probe_ms]
    return AppearanceScore(
        teach=taught, plates=tallies[0].plates if tallies else (), votes=votes, votes_untrusted=untrusted,
        described=sum(t.described for t in tallies), not_seen=sum(t.not_seen for t in tallies),
        events_described=len(wall),
        wall_ms=(_pct(wall, 50), _pct(wall, 95)), cpu_ms=(_pct(cpu, 50), _pct(cpu, 95)),
        untouched_ms=_pct(idle, 50), load_end=load_end,
        probe_events=len(probe), probe_ms=(_pct([p[0] for p in probe], 50), _pct([p[0] for p in probe], 95)),
        probe_cpu_ms=(_pct([p[1] for p in probe], 50), _pct([p[1] for p in probe], 95)),
        probe_embed_ms=(_pct([p[2] for p in probe], 50), _pct([p[2] for p in probe], 95)))


def _pct(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


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
    quick={"seeds": (401,), "interactions": 40, "teach_seeds": (301,)},
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
    parser.add_argument("--teach-interactions", type=int, default=None,
                        help="interactions per teach seed (301, 302; default --interactions)")
    parser.add_argument("--no-teach", action="store_true", help="no teach phase (the appearance mode = rendered_crop)")
    parser.add_argument("--measure-rates", action="store_true",
                        help=f"re-measure the statistical camera's rates on rendered frames into {RATES_FILE.name}")
    args = parser.parse_args()
    if args.measure_rates:
        rates = measure_rendered_rates(args.crop_scale)
        save_rendered_rates(rates, tour_seed=RATES_SEED, per_sku=RATES_PER_SKU, split="measure",
                            crop_scale=args.crop_scale, view=f"{len(PLATES)} plates")
        print(f"wrote {RATES_FILE}")
        return 0
    teach_seeds = () if args.no_teach or args.seeds == "tune" else SEEDS["tune"]  # never teach on scored seeds
    result = run(SEEDS[args.seeds], args.interactions, args.sps, args.split, crop_scale=args.crop_scale,
                 teach_seeds=teach_seeds, teach_interactions=args.teach_interactions)
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
