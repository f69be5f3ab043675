"""Does the real detector see the products the rendered camera composites? Hit rate per label, against the
statistical camera's rate for the same interactions.

Renders a label tour (every labelled SKU of the store catalogue picked and put back, edge.sim.camera.tour)
with photos of one half of ../shared/images (edge.sim.photo_rates.split_photos: `measure` tunes the
renderer, `held_out` is reported), runs the real detector on every delivered frame of each interaction's
window, builds the vision service's per-plate evidence and counts the SKU's catalogue label on the plate
it touched (threshold 0.5, the service's default).

    scripts/bench rendered_camera                                    # held-out photos, 12 interactions per SKU
    .venv/bin/python -m bench.rendered_camera --json docs/bench/rendered-camera.json   # all options: --help
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.benchmark import Benchmark
from edge.sim.camera.measure import LabelRate, Sighting, rates_by, sightings, stock_of
from edge.sim.camera.photos import PhotoLibrary
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.tour import PLATES, label_tour, labelled_skus
from edge.sim.camera.view import ShelfView
from edge.sim.engine import Simulation, layout_for
from edge.sim.offline import DEFAULT_START
from edge.sim.scenario import Item
from edge.sim.stat_camera import measured_rates
from edge.vision.detector import Detector

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO.parent / "shared" / "images"
MODEL = REPO.parent / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"
KEYS = ("label", "sku", "family")
Split = Literal["measure", "held_out", "all"]


@dataclass(frozen=True)
class RenderedCameraResult:
    split: Split
    seed: int
    per_sku: int
    frames: int
    wall_s: float
    sightings: tuple[Sighting, ...]
    rates: Mapping[str, Mapping[str, LabelRate]]  # "label" / "sku" / "family" -> name -> rate
    statistical: Mapping[str, Mapping[str, float]]  # the statistical camera's hit rate, same keys

    @property
    def interactions(self) -> int:
        return len(self.sightings)


def statistical_hit_rates(items: list[Item], seen: Sequence[Sighting]) -> dict[str, dict[str, float]]:
    """The statistical camera's hit rate (measured on the photos' measure half) for the same
    interactions, averaged per label / SKU / family, to set beside the rendered frames' rate."""
    rates = measured_rates()
    by_sku = {item.sku: rates.for_item(item).hit for item in items}
    out: dict[str, dict[str, float]] = {}
    for key in KEYS:
        groups: dict[str, list[float]] = {}
        for s in seen:
            name = {"label": s.label or "(none)", "sku": s.sku, "family": s.family or "(painted)"}[key]
            groups.setdefault(name, []).append(by_sku[s.sku])
        out[key] = {name: round(sum(v) / len(v), 3) for name, v in groups.items()}
    return out


def unavailable(images: Path = IMAGES, model: Path = MODEL) -> str | None:
    if not (model / "detect.tflite").is_file():
        return f"no detection model at {model} (scripts/get-model installs one)"
    if not images.is_dir():
        return f"no photos at {images}"
    return None


def run(split: Split = "held_out", per_sku: int = 12, seed: int = 13, skus: Sequence[str] = (),
        images: Path = IMAGES, model: Path = MODEL) -> RenderedCameraResult:
    """`skus`: the SKUs to tour (default every labelled one)."""
    chosen = list(skus) or labelled_skus()
    scenario = label_tour(seed, chosen, per_sku)
    truth = [r.shifted(DEFAULT_START) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    camera = RenderedCamera(truth, scenario.items, ShelfView.grid(PLATES), scenario.seed, PhotoLibrary(images, split),
                            stock_of((s.plate, s.sku) for s in scenario.planogram))
    detector = Detector.from_files(model / "detect.tflite", model / "coco_labels.txt")
    started = time.time()
    seen = tuple(sightings(camera, truth, detector))
    return RenderedCameraResult(split=split, seed=seed, per_sku=per_sku, frames=sum(s.frames for s in seen),
                                wall_s=round(time.time() - started, 1), sightings=seen,
                                rates={key: rates_by(seen, key) for key in KEYS},
                                statistical=statistical_hit_rates(scenario.items, seen))


def render_markdown(result: RenderedCameraResult) -> str:
    ms = 1000 * result.wall_s / max(result.frames, 1)
    lines = [f"{result.interactions} interactions ({result.per_sku} per SKU, seed {result.seed}), {result.frames} "
             f"frames in {result.wall_s:g} s ({ms:.0f} ms per frame: render + JPEG + decode + detect); photos: "
             f"{result.split} half. Baseline: the statistical camera's hit rate for the same interactions."]
    for key in KEYS:
        lines += ["", f"| {key} | interactions | hit | statistical camera hit | best score (median) | hand | "
                  "confusions >= 5 % |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for name, r in result.rates[key].items():
            confusions = ", ".join(f"{k} {v:.2f}" for k, v in r.confusions.items() if v >= 0.05) or "-"
            best = f"{r.best_median:.2f}" if r.best_median is not None else "-"
            expected = result.statistical[key].get(name)
            shown = f"{expected:.2f}" if expected is not None else "-"
            lines.append(f"| {name} | {r.interactions} | {r.hit_rate:.2f} | {shown} | {best} | {r.hand:.2f} | "
                         f"{confusions} |")
    return "\n".join(lines) + "\n"


def as_json(result: RenderedCameraResult) -> dict[str, object]:
    """The layout of docs/bench/rendered-camera.json."""
    report: dict[str, object] = {"split": result.split, "seed": result.seed, "per_sku": result.per_sku,
                                 "interactions": result.interactions, "frames": result.frames}
    for key in KEYS:
        report[f"by_{key}"] = {
            name: {"interactions": r.interactions, "hit": round(r.hit_rate, 3),
                   "statistical_camera_hit": result.statistical[key].get(name), "best_median": r.best_median,
                   "hand": round(r.hand, 3),
                   "confusions": {k: round(v, 3) for k, v in r.confusions.items() if v >= 0.05}}
            for name, r in result.rates[key].items()
        }  # fmt: skip
    report["interactions_detail"] = [
        {"id": s.record_id, "kind": s.kind, "sku": s.sku, "photo": s.photo, "frames": s.frames, "hit": s.hit,
         "labels": {k: [round(b, 3), round(m, 3)] for k, (b, m) in s.evidence.labels.items()},
         "hand": s.evidence.hand_present}
        for s in result.sightings
    ]  # fmt: skip
    return report


BENCHMARK = Benchmark(
    name="rendered_camera",
    title="real detector on the rendered camera's frames, against the statistical camera's rates",
    run=run,
    render=render_markdown,
    quick={"per_sku": 2},
    full={"per_sku": 12},
    detail="simulator.md#rendered-camera",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["held_out", "measure", "all"], default="held_out")
    parser.add_argument("--per-sku", type=int, default=12, help="interactions per SKU (half picks, half puts)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skus", default=None, help="comma-separated SKUs (default: every labelled one)")
    parser.add_argument("--images", type=Path, default=IMAGES)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--json", type=Path, default=None, help="write per-interaction results and rates here")
    args = parser.parse_args(argv)
    missing = unavailable(args.images, args.model)
    if missing:
        print(f"bench.rendered_camera: {missing}", file=sys.stderr)
        return 1
    result = run(args.split, args.per_sku, args.seed, tuple(args.skus.split(",")) if args.skus else (), args.images,
                 args.model)
    print(render_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(as_json(result), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
