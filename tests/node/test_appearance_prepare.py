"""A refresh builds the splitter's cross-plate pair checks on its own thread, before fusion gets the splitter,
so the first vote across plates after a refresh builds nothing on the processing thread. Real gallery
(SQLite), real refresh, the real colour-only embedder (no model): two plates of look-alike apples, 182-183.5 g."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from edge.gallery import Crop, Gallery
from edge.gallery.store import gallery_path
from edge.hw.draw import encode_jpeg
from edge.node.appearance_feed import AppearanceFeed
from edge.planogram import Planogram, parse_planogram
from edge.vision.appearance_embed import CropEmbedder
from edge.vision.appearance_splitter import AppearanceSplitter
from tests.node.gallery_items import T0, RingCamera, node_config

COLOURS = {"GOLDEN": (40, 200, 200), "PINK": (60, 60, 210), "GALA": (30, 30, 120), "FUJI": (90, 160, 60)}
WEIGHTS = {"GOLDEN": 182.0, "PINK": 182.5, "GALA": 183.0, "FUJI": 183.5, "JUICE": 1040.0}
PLATES = {"p1": ("GOLDEN", "PINK"), "p2": ("GALA", "FUJI")}
EXAMPLES = 26  # per SKU: a plate of two is trusted from 25


def _planogram() -> Planogram:
    catalogue = [{"sku": sku, "name": sku, "unit_weight_g": grams, "unit_sigma_g": 1.5, "labels": ["apple"]}
                 for sku, grams in WEIGHTS.items()]
    document = {"format": 2, "id": "pg", "version": 1, "catalogue": catalogue,
                "plates": {plate: [{"sku": sku, "stock": 40} for sku in skus] for plate, skus in PLATES.items()}}
    return parse_planogram(json.dumps(document), list(PLATES))


def _look(sku: str, n: int) -> np.ndarray:
    rng = np.random.default_rng([n, len(sku), ord(sku[0])])
    image = np.full((64, 64, 3), COLOURS[sku], np.float64) + rng.normal(0, 10, (64, 64, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


class Stage:
    """Fusion's side of the hand-over (`FusionStage.appearance`): notes how many pair checks the splitter
    had built when it was handed over."""

    def __init__(self) -> None:
        self.handed: list[tuple[AppearanceSplitter, int]] = []

    @property
    def appearance(self) -> AppearanceSplitter:
        return self.handed[-1][0]

    @appearance.setter
    def appearance(self, splitter: AppearanceSplitter) -> None:
        self.handed.append((splitter, splitter.pair_builds))


def test_a_refresh_prepares_the_pairs_before_fusion_gets_the_splitter(tmp_path: Path) -> None:
    config = node_config(tmp_path)
    planogram = _planogram()
    gallery = Gallery(gallery_path(config), config.gallery)
    embedder = CropEmbedder(None)
    try:
        for n in range(EXAMPLES):
            for plate, skus in PLATES.items():
                for k, sku in enumerate(skus):
                    crop = Crop(plate, T0 + 10 * n + k, "detection", "apple", (0, 0, 64, 64),
                                encode_jpeg(_look(sku, n), 90))
                    assert gallery.add(sku, crop, "auto", 0.9995) is not None
        stage = Stage()
        feed = AppearanceFeed(config, cast(Any, RingCamera()), cast(Any, stage), gallery, lambda: planogram,
                              embedder, "crop-v2:test")
        splitter = feed.refresh()
        assert stage.appearance is splitter and feed.status()["trusted_plates"] == ["p1", "p2"]
        handed_with = stage.handed[-1][1]
        # each apple of p1 against each of p2 (their own pairs are the plates' splitters): built once, before
        assert handed_with == splitter.pair_builds == 4
        gala = embedder.describe([_look("GALA", 1000)])
        vote = splitter.vote("p1", gala, ("GALA", "GOLDEN", "PINK"))  # a Gala put back on the wrong plate
        assert vote is not None and vote.sku == "GALA"
        pink = embedder.describe([_look("PINK", 1001)])
        for plate in PLATES:
            vote = splitter.vote(plate, pink, ("FUJI", "GALA", "GOLDEN", "PINK"))
            assert vote is not None and vote.sku == "PINK"
        assert splitter.pair_builds == handed_with  # no vote built a check
        assert splitter.vote("p2", pink, ("JUICE", "PINK")) is None  # no examples of the juice: nothing to split
    finally:
        gallery.close()
