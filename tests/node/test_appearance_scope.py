"""`[gallery] examples_from` in the node's appearance loop, with the real parts: GOLDEN and PINK (both "apple",
182 / 185 g) share p1 and each has a plate of its own (p2, p3). Accepted picks on the solo plates, handed to the
real gallery feed with their frames (teach photos of ../shared/images/sku-photos), are the only crops. With
`any_plate` they make p1's splitter trusted and a 183.5 g pick on p1 (held-out photos) is split; with `plate`
(the default) the same gallery leaves p1 untrusted and the pick stays `twin`. The guard asks p1's splitter
about a GOLDEN crop from p2 once p1 learns from p2. Those need ../shared (model and photos) and skip otherwise;
the refresh's cost (each example described once, whatever the scope, as `gallery check` says) and what a solo
facing's pick labels under the default fusion are checked without it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from edge.gallery import Gallery
from edge.gallery.store import gallery_path
from edge.model import Detection, ItemEvent, PlateEvidence, WeightEvent
from edge.node.appearance_feed import AppearanceFeed
from edge.node.gallery_feed import GalleryFeed
from edge.node.items import ItemStep
from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, jittered_crop
from edge.sim.scenario import Item
from tests.node.gallery_items import T0, item
from tests.node.solo_plates import BOXES, ThreePlateCamera, node_config, planogram
from tests.node.test_appearance_feed import Submitted
from tests.plugins.waiting import wait_until

LOOKS = {"GOLDEN": Item(sku="GOLDEN", unit_g=182.0, labels=["apple"], look="Golden-Delicious"),
         "PINK": Item(sku="PINK", unit_g=185.0, labels=["apple"], look="Pink-Lady")}
HOME = {"GOLDEN": "p2", "PINK": "p3"}  # each SKU's solo plate
PER_SKU = 30  # enough for a plate of two (25 each with no leave-one-out error)


class SoloShelf:
    def __init__(self, tmp_path: Path, model: Path, images: Path, examples_from: str) -> None:
        from edge.vision.appearance_embed import CropEmbedder

        self.config = node_config(tmp_path, examples_from)
        self.planogram = planogram()
        self.camera = ThreePlateCamera()
        self.items = ItemStep(self.config, planogram=self.planogram)
        self.feed = GalleryFeed(self.config, cast(Any, self.camera), lambda: self.planogram)
        self.gallery = Gallery(gallery_path(self.config), self.config.gallery)  # the refresh's own reader
        self.appearance = AppearanceFeed(self.config, cast(Any, self.camera), self.items.stage, self.gallery,
                                         lambda: self.planogram, CropEmbedder(model / "detect.tflite"), "crop:test")
        self.feed.admit = self.appearance.admits
        self.teach, self.test = PhotoLibrary(images, TEACH), PhotoLibrary(images, TEST)
        self.rng = np.random.default_rng(15)
        self.t = T0
        self.seq = 0

    def show(self, plate: str, sku: str, library: PhotoLibrary, index: int) -> float:
        """A frame with the item (a jittered photo) in the hand over `plate`, with the detector's 'apple' box."""
        photos = library.photos_for(LOOKS[sku])
        crop = jittered_crop(library.image(photos[index % len(photos)]), self.rng)
        x1, y1, x2, y2 = BOXES[plate]
        image = np.full((480, 640, 3), 96, np.uint8)
        image[y1:y2, x1:x2] = crop
        self.t += 5.0
        self.camera.ring.push(self.t + 0.5, image).detections = (Detection("apple", 52, 0.8, BOXES[plate]),)
        return self.t

    def accepted_pick(self, sku: str, plate: str, looks_like: str | None = None, index: int = 0) -> None:
        """An accepted pick of `sku` on `plate` (as fusion hands it to the gallery feed), the frame showing
        `looks_like` (default: the SKU itself)."""
        t = self.show(plate, looks_like or sku, self.teach, index)
        self.seq += 1
        self.feed.on_item(item(sku, t=t, plate=plate), Submitted(str(uuid.uuid4()), self.seq))

    def twin_pick(self, sku: str, index: int) -> ItemEvent:
        """183.5 g off p1 (the weight cannot tell), a held-out photo: evidence, appearance, fusion."""
        t = self.show("p1", sku, self.test, index)
        event = WeightEvent(t, t + 1.0, {"p1": -183.5}, -183.5, 0.8)
        evidence = self.appearance.describe(event, {"p1": PlateEvidence("p1", {"apple": (0.8, 0.7)}, 5, True)})
        (decided,) = self.items.weight_event(event, evidence, True, t + 1.1) + self.items.flush()
        return decided

    def stored(self, count: int) -> bool:
        return wait_until(lambda: self.feed.counters["stored"] + self.feed.counters["not_admitted"] >= count,
                          timeout=30)

    def p1(self) -> dict[str, Any]:
        (plate,) = [p for p in self.appearance.status()["plates"] if p["plate"] == "p1"]
        return cast(dict[str, Any], plate)


@pytest.fixture(params=["plate", "any_plate"])
def shelf(request: pytest.FixtureRequest, tmp_path: Path, shared_model_dir: Path, shared_images_dir: Path) -> Any:
    shelf = SoloShelf(tmp_path, shared_model_dir, shared_images_dir, request.param)
    shelf.feed.start()
    for i in range(PER_SKU):
        for sku, plate in HOME.items():
            shelf.accepted_pick(sku, plate, index=i)
    assert shelf.stored(2 * PER_SKU), shelf.feed.counters
    yield shelf
    shelf.feed.stop()
    shelf.gallery.close()


def test_solo_plate_crops_teach_the_twin_plate_only_with_any_plate(shelf: SoloShelf) -> None:
    assert shelf.feed.counters["stored"] == 2 * PER_SKU and shelf.feed.counters["not_admitted"] == 0
    shelf.appearance.refresh()
    p1 = shelf.p1()
    assert [p["plate"] for p in shelf.appearance.status()["plates"]] == ["p1"]  # p2, p3: no look-alikes
    decided = [shelf.twin_pick(sku, i) for i, sku in enumerate(("PINK", "GOLDEN", "PINK", "GOLDEN"))]
    if shelf.config.gallery.examples_from == "plate":
        assert p1["examples"] == {"GOLDEN": 0, "PINK": 0} and not p1["trusted"], p1
        for event in decided:
            assert event.review_required and "twin" in event.review_reasons, event
            assert "appearance" not in event.vision
        assert shelf.appearance.counters["embedded"] == 0  # nothing teaches p1: nothing described
        return
    assert p1["examples"] == {"GOLDEN": PER_SKU, "PINK": PER_SKU} and p1["trusted"], p1
    for event, sku in zip(decided, ("PINK", "GOLDEN", "PINK", "GOLDEN"), strict=True):
        assert [line.sku for line in event.lines] == [sku], event
        assert "twin" not in event.review_reasons, event
        assert cast(dict[str, Any], event.vision["appearance"])["sku"] == sku
    embedded = shelf.appearance.counters["embedded"]
    assert embedded == 2 * PER_SKU + len(decided)  # each example described once, plus the four picks' crops
    shelf.appearance.refresh()
    assert shelf.appearance.counters["embedded"] == embedded  # cached: a second refresh describes nothing
    assert {sku: len(rows) for sku, rows in shelf.gallery.descriptors("crop:test").items()} == \
        {"GOLDEN": PER_SKU, "PINK": PER_SKU}


def test_the_guard_asks_the_plates_a_crop_will_teach(shelf: SoloShelf) -> None:
    """A GOLDEN pick on p2 whose crop shows a Pink Lady (a wrong self-label): with `any_plate` it would teach
    p1, whose trusted splitter calls it PINK, so it stays out; a true GOLDEN crop from p2 is let in. With
    `plate` it teaches no splitter (p2 has none), so nothing is asked and it is stored."""
    shelf.appearance.refresh()
    before = dict(shelf.feed.counters)
    shelf.accepted_pick("GOLDEN", "p2", looks_like="PINK", index=3)
    shelf.accepted_pick("GOLDEN", "p2", index=PER_SKU)
    assert shelf.stored(before["stored"] + before["not_admitted"] + 2), shelf.feed.counters
    counters = shelf.appearance.counters
    if shelf.config.gallery.examples_from == "plate":
        assert shelf.feed.counters["stored"] == before["stored"] + 2 and counters["admit_checks"] == 0
        return
    assert counters["admit_checks"] == 2 and counters["refused"] == 1, counters
    assert shelf.feed.counters["not_admitted"] == before["not_admitted"] + 1
    assert shelf.feed.counters["stored"] == before["stored"] + 1
    examples = shelf.gallery.examples(["GOLDEN"], plate="p2")
    assert len(examples) == PER_SKU + 1  # the true one joined
    shelf.appearance.refresh()
    assert shelf.p1()["examples"] == {"GOLDEN": PER_SKU + 1, "PINK": PER_SKU}


@pytest.mark.parametrize("examples_from", ["plate", "any_plate"])
def test_a_refresh_describes_each_example_once_and_agrees_with_gallery_check(tmp_path: Path,
                                                                             examples_from: str) -> None:
    """Two twin plates (p1, p2 both hold GOLDEN and PINK), crops taken on p3 and one on p1; the real colour-only
    embedder (no model). With `any_plate` both plates learn from every crop, described once whatever the
    scope; `gallery check` on the same file says what the daemon's splitter says."""
    import json

    from edge.gallery.check import check_gallery
    from edge.planogram import parse_planogram
    from edge.vision.appearance_embed import CropEmbedder
    from tests.cli.test_gallery_cmd import apple
    from tests.node.solo_plates import PLATES, document

    config = node_config(tmp_path, examples_from)
    twins = parse_planogram(json.dumps(document(twin_plates=("p1", "p2"))), PLATES)
    gallery = Gallery(gallery_path(config), config.gallery)
    for n in range(30):
        gallery.add("GOLDEN", apple((40, 190, 190), n, "p3"), "auto", 0.9995)
        gallery.add("PINK", apple((90, 70, 210), 1000 + n, "p3"), "restock")
    gallery.add("GOLDEN", apple((40, 190, 190), 500, "p1"), "review")
    embedder = CropEmbedder(None)
    try:
        feed = AppearanceFeed(config, cast(Any, ThreePlateCamera()), ItemStep(config, planogram=twins).stage,
                              gallery, lambda: twins, embedder, "crop:colour")
        splitter = feed.refresh()
        taught = 61 if examples_from == "any_plate" else 1
        assert feed.counters["embedded"] == taught  # described once, though each teaches p1 and p2
        assert sum(len(rows) for rows in gallery.descriptors("crop:colour").values()) == taught
        feed.refresh()
        assert feed.counters["embedded"] == taught  # the second refresh reads the cache
        daemon = [(r.plate, r.trusted, {s: r.examples.get(s, 0) for s in ("GOLDEN", "PINK")})
                  for r in splitter.reports()]
        if examples_from == "any_plate":
            assert daemon == [("p1", True, {"GOLDEN": 31, "PINK": 30}), ("p2", True, {"GOLDEN": 31, "PINK": 30})]
        else:
            assert daemon == [("p1", False, {"GOLDEN": 1, "PINK": 0}), ("p2", False, {"GOLDEN": 0, "PINK": 0})]
        checks = check_gallery(gallery, twins, lambda crop: embedder.embed(crop).combined(),
                               config.gallery.min_accuracy, config.gallery.min_examples, config.gallery.examples_from)
        assert [(c.plate, c.trusted, c.examples) for c in checks] == daemon
    finally:
        gallery.close()


@pytest.mark.parametrize(("labels", "seen", "labelled"), [
    (("orange", "apple"), {"orange": (0.8, 0.7)}, True),  # label-distinct look-alikes, the label seen
    (("orange", "apple"), {}, False),  # its label missed: accepted, under min_confidence
    (("apple", "apple"), {"apple": (0.8, 0.7)}, False),  # same-label twins: the other, misplaced, is a `twin`
])
def test_what_a_solo_facing_labels_under_the_default_fusion(tmp_path: Path, labels: tuple[str, str],
                                                            seen: dict[str, tuple[float, float]],
                                                            labelled: bool) -> None:
    """The statement of docs/gallery.md "What labels the solo facings" (update it if this changes): a pick of
    GOLDEN (182 g) off its solo plate p2, PINK (185 g) a look-alike on p1 and alone on p3, through the real
    ItemStep, judged by the gallery's rule for an `auto` label (accepted, one SKU, >= [gallery] min_confidence)."""
    import json

    from edge.planogram import parse_planogram
    from tests.node.solo_plates import PLATES, document

    config = node_config(tmp_path)
    doc = document()
    for entry, label in zip(cast(list[dict[str, Any]], doc["catalogue"]), labels, strict=True):
        entry["labels"] = [label]
    items = ItemStep(config, planogram=parse_planogram(json.dumps(doc), PLATES))
    event = WeightEvent(T0, T0 + 1.0, {"p2": -182.0}, -182.0, 0.8)
    (decided,) = items.weight_event(event, {"p2": PlateEvidence("p2", seen, 5, True)}, True, T0 + 1.1) + items.flush()
    assert [line.sku for line in decided.lines] == ["GOLDEN"]
    self_labels = not decided.review_required and decided.confidence >= config.gallery.min_confidence
    assert self_labels is labelled, (decided.confidence, decided.review_reasons)
    if labels[0] == labels[1]:
        assert decided.review_required and "twin" in decided.review_reasons
