"""The gallery caches descriptors by kind: a node whose descriptor changed (crop-v1 -> crop-v2) describes its
stored crops again on the next refresh, from the crops themselves, and never mixes a vector of the old kind
into a splitter of the new. Real gallery (SQLite), real refresh, the real colour-only embedder (no model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from edge.config.detector import DetectorSection
from edge.gallery import Crop, Gallery
from edge.gallery.store import gallery_path
from edge.hw.draw import encode_jpeg
from edge.hw.jpeg import decode_jpeg
from edge.node.appearance_feed import AppearanceFeed, descriptor_kind
from edge.node.items import ItemStep
from edge.planogram import Planogram, parse_planogram
from edge.vision.appearance_embed import DESCRIPTOR_KIND, CropEmbedder
from tests.node.gallery_items import T0, RingCamera, node_config


def _planogram() -> Planogram:
    catalogue = [{"sku": sku, "name": sku, "unit_weight_g": 182.0, "unit_sigma_g": 1.5, "labels": ["apple"]}
                 for sku in ("GOLDEN", "PINK")]
    document = {"format": 2, "id": "pg", "version": 1, "catalogue": catalogue,
                "plates": {"p1": [{"sku": "GOLDEN", "stock": 40}, {"sku": "PINK", "stock": 40}], "p2": []}}
    return parse_planogram(json.dumps(document), ["p1", "p2"])


def _look(sku: str, n: int) -> np.ndarray:
    rng = np.random.default_rng([n, len(sku)])
    colour = (40, 200, 200) if sku == "GOLDEN" else (60, 60, 210)
    image = np.full((64, 64, 3), colour, np.float64) + rng.normal(0, 10, (64, 64, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def test_descriptors_of_another_kind_are_described_again_from_the_stored_crops(tmp_path: Path) -> None:
    config = node_config(tmp_path)
    planogram = _planogram()
    gallery = Gallery(gallery_path(config), config.gallery)
    try:
        old = CropEmbedder(None, descriptor="crop-v1")
        ids: dict[int, str] = {}
        for n in range(12):
            for sku in ("GOLDEN", "PINK"):
                jpeg = encode_jpeg(_look(sku, n), 90)
                crop = Crop("p1", T0 + 10 * n + (sku == "PINK"), "detection", "apple", (0, 0, 64, 64), jpeg)
                example_id = gallery.add(sku, crop, "auto", 0.9995)
                assert example_id is not None
                ids[example_id] = sku
                gallery.put_descriptor(example_id, "crop-v1:abc", old.describe([_look(sku, n)]))  # a node's old cache

        new = CropEmbedder(None)  # crop-v2
        feed = AppearanceFeed(config, cast(Any, RingCamera()), ItemStep(config, planogram=planogram).stage, gallery,
                              lambda: planogram, new, "crop-v2:abc")
        splitter = feed.refresh()
        assert feed.counters["embedded"] == len(ids)  # every stored crop described again, none taken from crop-v1
        cached = {i: v for rows in gallery.descriptors("crop-v2:abc").values() for i, v in rows}
        assert set(cached) == set(ids)
        for example_id, vector in cached.items():
            stored = gallery.image(example_id)
            assert stored is not None
            expected = new.describe([decode_jpeg(np.frombuffer(stored, np.uint8), "test")])
            assert vector.shape == (new.embed(_look("PINK", 0)).combined().size,)
            assert np.allclose(vector, expected, atol=1e-6)  # from the stored JPEG, the new kind's descriptor
        old_rows = gallery.descriptors("crop-v1:abc")
        assert sum(len(rows) for rows in old_rows.values()) == len(ids)  # the old kind's rows left as they were
        assert splitter.plates["p1"].report.examples == {"GOLDEN": 12, "PINK": 12}

        feed.poke()
        feed.refresh()
        assert feed.counters["embedded"] == len(ids)  # the second refresh reads the new cache
    finally:
        gallery.close()


def test_the_node_kind_names_the_current_descriptor(tmp_path: Path) -> None:
    model = tmp_path / "detect.tflite"
    model.write_bytes(b"not really a model")
    kind = descriptor_kind(DetectorSection(model=model, labels=tmp_path / "labels.txt"))
    assert kind.split(":")[0] == DESCRIPTOR_KIND == "crop-v2" and len(kind.split(":")[1]) == 12
