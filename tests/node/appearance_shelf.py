"""A recorded shelf for the replay-with-appearance tests: plate p2 holds two apple varieties of one weight that the
detector calls "apple" alike (same-label weight twins: vision alone never splits them), recorded with its rendered
camera's frames (held-out photos); and a node gallery of the two SKUs' crops cut from their teach photos with the
simulator's per-event jitter (edge.sim.camera.photos), so the photos the gallery learned from are never the ones
the replayed frames show."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.gallery import Crop, Gallery
from edge.hw.draw import encode_jpeg
from edge.sim.camera.photos import TEACH, PhotoLibrary, jittered_crop
from edge.sim.scenario import Item, Scenario
from tests.node.frames_shelf import twin_plate_scenario

PINK, GOLDEN = "apple-pink-lady", "apple-golden"
LOOKS = {PINK: "Pink-Lady", GOLDEN: "Golden-Delicious"}
T0 = 1_700_000_000.0


def twin_apples(actions: list[dict[str, object]], seed: int = 3) -> Scenario:
    return twin_plate_scenario(
        ({"sku": PINK, "unit_g": 1012.0, "variation": 0.008, "labels": ["apple"], "look": LOOKS[PINK]},
         {"sku": GOLDEN, "unit_g": 1013.0, "variation": 0.008, "labels": ["apple"], "look": LOOKS[GOLDEN]}),
        actions, seed)  # fmt: skip


def fill_gallery(path: Path, images: Path, per_sku: int, seed: int = 15,
                 plates: dict[str, str] | None = None) -> None:
    """`per_sku` labelled crops of each apple, as a node stores accepted picks' crops: on p2 (the twin plate),
    or on `plates` ({sku: plate}: the plate each SKU's crops were taken on)."""
    library = PhotoLibrary(images, TEACH)
    rng = np.random.default_rng(seed)
    gallery = Gallery(path)
    try:
        for n in range(per_sku):
            for sku, look in LOOKS.items():
                photos = library.photos_for(Item(sku=sku, unit_g=1012.0, labels=["apple"], look=look))
                crop = jittered_crop(library.image(photos[n % len(photos)]), rng)
                plate = (plates or {}).get(sku, "p2")
                gallery.add(sku, Crop(plate, T0 + n, "detection", "apple", (0, 0, 128, 128), encode_jpeg(crop, 90)),
                            "auto", 0.9995, f"{sku}-{n}")
    finally:
        gallery.close()
