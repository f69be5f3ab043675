"""A constructed plate of two look-alike SKUs (Golden Delicious and Pink Lady: both 'apple' to the detector)
with fixed photos: flagged (not trusted) with a few examples, split right on held-out photos with enough.
Needs ../shared (model and photos); skips with a message otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge.fusion import FusionSettings, FusionStage
from edge.model import ItemEvent, PlateEvidence, WeightEvent, WeightEventRef
from edge.planogram import parse_planogram
from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, jittered_crop
from edge.sim.scenario import Item
from edge.vision.appearance_embed import CropEmbedder
from edge.vision.appearance_splitter import AppearanceSplitter, PlateSplitter

GOLDEN = Item(sku="golden", unit_g=182.0, labels=["apple"], look="Golden-Delicious")
PINK = Item(sku="pink", unit_g=185.0, labels=["apple"], look="Pink-Lady")


def _descriptors(embedder: CropEmbedder, library: PhotoLibrary, item: Item, n: int, seed: int) -> list[np.ndarray]:
    photos = library.photos_for(item)
    rng = np.random.default_rng(seed)
    return [embedder.describe([jittered_crop(library.image(photos[i % len(photos)]), rng)]) for i in range(n)]


def test_look_alike_apples_are_flagged_then_split(shared_images_dir: Path, shared_model_dir: Path) -> None:
    embedder = CropEmbedder(shared_model_dir / "detect.tflite")
    teach, test = PhotoLibrary(shared_images_dir, TEACH), PhotoLibrary(shared_images_dir, TEST)
    assert not {p.file for p in teach.photos_for(GOLDEN)} & {p.file for p in test.photos_for(GOLDEN)}
    gallery = {"golden": _descriptors(embedder, teach, GOLDEN, 30, 1),
               "pink": _descriptors(embedder, teach, PINK, 30, 2)}
    early = PlateSplitter("p1", {sku: rows[:6] for sku, rows in gallery.items()})
    assert not early.report.trusted and early.report.needed_more == 4
    assert early.vote(gallery["pink"][0], ["golden", "pink"]) is None
    splitter = PlateSplitter("p1", gallery)
    assert splitter.report.trusted, splitter.report
    right = votes = 0
    for item in (GOLDEN, PINK):
        for descriptor in _descriptors(embedder, test, item, 12, 3):
            vote = splitter.vote(descriptor, ["golden", "pink"])
            if vote is not None:
                votes += 1
                right += vote.sku == item.sku
    assert votes >= 18 and right == votes

    # through fusion: the same twin pick is flagged with the early gallery and resolved with the grown one
    pink_test = _descriptors(embedder, test, PINK, 1, 4)[0]
    early_item = _pick(AppearanceSplitter({"p1": {sku: rows[:6] for sku, rows in gallery.items()}}), pink_test)
    assert early_item.review_required and "twin" in early_item.review_reasons
    resolved = _pick(AppearanceSplitter({"p1": gallery}), pink_test)
    assert [line.sku for line in resolved.lines] == ["pink"] and "twin" not in resolved.review_reasons
    assert resolved.confidence > early_item.confidence + 0.3  # 30 examples each: ~0.95, auto-accept needs ~50


def _pick(splitter: AppearanceSplitter, descriptor: np.ndarray) -> ItemEvent:
    catalogue = [{"sku": i.sku, "name": i.sku, "unit_weight_g": i.unit_g, "unit_sigma_g": 1.5, "labels": i.labels}
                 for i in (GOLDEN, PINK)]
    document = {"format": 2, "id": "pg", "version": 1, "catalogue": catalogue,
                "plates": {"p1": [{"sku": "golden", "stock": 20}, {"sku": "pink", "stock": 20}]}}
    stage = FusionStage(["p1"], parse_planogram(json.dumps(document), ["p1"]), FusionSettings())
    stage.appearance = splitter
    evidence = {"p1": PlateEvidence("p1", {"apple": (0.9, 0.8)}, 20, True, None, tuple(float(v) for v in descriptor))}
    event = WeightEvent(1000.0, 1001.0, {"p1": -183.5}, -183.5, 0.8)  # between the two: the weight cannot tell
    items = stage.on_weight_event(event, evidence, True, 1001.1, WeightEventRef(None, 1)) + stage.flush()
    assert len(items) == 1
    return items[0]
