"""The statistical camera's rates re-measured on rendered frames, for bench/vision_loop.py (a helper module: no
BENCHMARK). `python -m bench.vision_loop --measure-rates` writes RATES_FILE; its `statistical_rendered_rates` mode
reads it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.view import ShelfView
from edge.sim.stat_camera import CameraRates, LookRates, measured_rates

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO.parent / "shared" / "images"
MODEL = REPO.parent / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"
PLATES = ("p1", "p2", "p3", "p4", "p5")  # bench/vision_loop.py's view
CROP_SCALE = 2.0  # as bench/vision_loop.py's rendered_crop
RATES_FILE = Path(__file__).with_name("vision_loop_rates.json")
RATES_SEED, RATES_PER_SKU = 31, 8  # the label tour the rates are measured on (measure photos: not reported)


def measure_rendered_rates(crop_scale: float = CROP_SCALE, split: str = "measure", seed: int = RATES_SEED,
                           per_sku: int = RATES_PER_SKU, model: Path = MODEL, images: Path = IMAGES) -> CameraRates:
    """The statistical camera's per-family rates re-measured on rendered frames of the label tour (every labelled
    store SKU picked and put back), in this benchmark's 5-plate view, through the real detector with the plate
    windows of `crop_scale` (as rendered_crop), on the `measure` photos (never the reported ones)."""
    from edge.sim.camera.measure import camera_rates, sightings, stock_of
    from edge.sim.camera.photos import PhotoLibrary
    from edge.sim.camera.tour import label_tour, labelled_skus
    from edge.sim.engine import Simulation, layout_for
    from edge.sim.offline import DEFAULT_START
    from edge.vision.detector import Detector

    scenario = label_tour(seed, labelled_skus(), per_sku)
    truth = [r.shifted(DEFAULT_START) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    camera = RenderedCamera(truth, scenario.items, ShelfView.grid(list(PLATES)), scenario.seed,
                            PhotoLibrary(images, split), stock_of((s.plate, s.sku) for s in scenario.planogram))  # type: ignore[arg-type]
    detector = Detector.from_files(model / "detect.tflite", model / "coco_labels.txt")
    return camera_rates(sightings(camera, truth, detector, crop_scale=crop_scale), measured_rates())


def save_rendered_rates(rates: CameraRates, path: Path = RATES_FILE, **about: object) -> None:
    families = {name: {"label": look.label, "hit": round(look.hit, 4), "best_scores": list(look.best_scores),
                       "confusions": look.confusions} for name, look in sorted(rates.looks.items())}
    path.write_text(json.dumps({**about, "hand_seen": rates.hand_seen, "families": families}, indent=1) + "\n")


def load_rendered_rates(path: Path = RATES_FILE) -> CameraRates:
    """The re-measured rates (families measured there; the rest, the no-look and assumed rates from the photos')."""
    base = measured_rates()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; make it with python -m bench.vision_loop --measure-rates")
    raw = json.loads(path.read_text())
    looks = dict(base.looks)
    for name, entry in raw["families"].items():
        looks[name] = LookRates(entry["label"], entry["hit"], tuple(entry["best_scores"]), dict(entry["confusions"]))
    return dataclasses.replace(base, looks=looks, hand_seen=raw["hand_seen"])
