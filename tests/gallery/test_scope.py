"""Which examples teach a look-alike plate's splitter (`[gallery] examples_from`, edge/gallery/scope.py): the
selection and its converse (the plates an example teaches, which the poisoning guard asks) agree, on a real
gallery and on its `gallery export` read back as replay reads it; `gallery check` follows the setting and
describes an example that teaches two plates once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.gallery import Gallery
from edge.gallery.check import check_gallery, look_alikes
from edge.gallery.export import export_dataset
from edge.gallery.frozen import FrozenGallery
from edge.gallery.scope import plate_examples, plates_taught
from edge.planogram import parse_planogram
from edge.vision.appearance_embed import CropEmbedder
from tests.cli.test_gallery_cmd import apple
from tests.node.solo_plates import GOLDEN, PINK, PLATES, document

WHERE = {GOLDEN: ("p1", "p2", "p2", "p3"), PINK: ("p1", "p3", "p3")}  # where each SKU's examples were taken
LOOK_ALIKES = {"p1": (GOLDEN, PINK), "p3": (GOLDEN, "GREEN")}  # GOLDEN a look-alike on two plates


def _filled(path: Path) -> Gallery:
    gallery = Gallery(path)
    for sku, plates in WHERE.items():
        for n, plate in enumerate(plates):
            gallery.add(sku, apple((40, 190, 90), 10 * n + len(sku), plate), "auto", 0.9995)
    gallery.add("OTHER", apple((200, 200, 200), 99, "p1"), "restock")  # not a look-alike anywhere
    return gallery


@pytest.mark.parametrize("examples_from", ["plate", "any_plate"])
def test_a_plate_s_examples_are_those_that_say_they_teach_it(tmp_path: Path, examples_from: Any) -> None:
    gallery = _filled(tmp_path / "gallery.sqlite3")
    export_dataset(gallery, tmp_path / "export")
    every = gallery.examples()
    frozen = FrozenGallery.open(tmp_path / "export")
    try:
        for plate, skus in LOOK_ALIKES.items():
            chosen = [e.id for e in plate_examples(gallery, plate, skus, examples_from)]
            teaching = [e.id for e in every if plate in plates_taught(e.sku, e.plate, LOOK_ALIKES, examples_from)]
            assert chosen == teaching, plate
            assert [e.id for e in plate_examples(frozen, plate, skus, examples_from)] == chosen  # replay's source
        p1 = plate_examples(gallery, "p1", LOOK_ALIKES["p1"], examples_from)
        p3 = plate_examples(gallery, "p3", LOOK_ALIKES["p3"], examples_from)
        if examples_from == "plate":
            assert [(e.sku, e.plate) for e in p1] == [(GOLDEN, "p1"), (PINK, "p1")]
            assert [(e.sku, e.plate) for e in p3] == [(GOLDEN, "p3")]
            assert plates_taught(GOLDEN, "p2", LOOK_ALIKES, examples_from) == []  # p2 has no splitter
        else:
            assert sorted(e.sku for e in p1) == [GOLDEN] * 4 + [PINK] * 3
            assert [e.sku for e in p3] == [GOLDEN] * 4
            assert plates_taught(GOLDEN, "p2", LOOK_ALIKES, examples_from) == ["p1", "p3"]
        assert plates_taught("OTHER", "p1", LOOK_ALIKES, examples_from) == []
    finally:
        frozen.close()
        gallery.close()


def test_check_follows_the_setting_and_describes_each_example_once(tmp_path: Path) -> None:
    """p1 and p2 both hold GOLDEN and PINK; their crops were taken on p3 and on the twin plates' neighbours.
    With `any_plate` both plates learn from all of them, each crop described once."""
    planogram = parse_planogram(json.dumps(document(twin_plates=("p1", "p2"))), PLATES)
    assert look_alikes(planogram) == {"p1": (GOLDEN, PINK), "p2": (GOLDEN, PINK)}
    gallery = Gallery(tmp_path / "gallery.sqlite3")
    for n in range(30):
        gallery.add(GOLDEN, apple((40, 190, 190), n, "p3"), "auto", 0.9995)  # yellow
        gallery.add(PINK, apple((90, 70, 210), 1000 + n, "p3"), "restock")  # pink-red
    gallery.add(GOLDEN, apple((40, 190, 190), 500, "p1"), "review")
    embedder = CropEmbedder(None)
    calls: list[int] = []

    def embed(crop: np.ndarray) -> Any:
        calls.append(1)
        return embedder.embed(crop).combined()

    try:
        own = check_gallery(gallery, planogram, embed)  # default: examples_from = "plate"
        assert [(c.plate, c.examples, c.trusted, c.examples_from) for c in own] == [
            ("p1", {GOLDEN: 1, PINK: 0}, False, "plate"), ("p2", {GOLDEN: 0, PINK: 0}, False, "plate")]
        assert len(calls) == 1
        calls.clear()
        anywhere = check_gallery(gallery, planogram, embed, examples_from="any_plate")
        assert [(c.plate, c.examples, c.trusted) for c in anywhere] == [
            ("p1", {GOLDEN: 31, PINK: 30}, True), ("p2", {GOLDEN: 31, PINK: 30}, True)]
        assert len(calls) == 61  # each once, though each teaches two plates
        assert anywhere[0].to_json()["examples_from"] == "any_plate"
    finally:
        gallery.close()
