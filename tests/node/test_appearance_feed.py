"""The node's appearance loop with the real parts: a look-back ring of frames showing the sku photos of two
look-alike apples (both 'apple' to the detector, 182 g and 185 g on one plate), the real gallery feed storing
the crops of accepted picks, the real model describing them on the refresh thread, and the real ItemStep's
fusion deciding a pick the weight cannot split. Flagged `twin` while the splitter is not trusted; settled by
the appearance vote once each SKU has enough examples; a refresh stuck in the gallery does not hold up the
processing thread. Needs ../shared (model and photos); skips with a message otherwise."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from edge.fusion import item_event_to_dict
from edge.gallery import Crop, Gallery
from edge.gallery.store import gallery_path
from edge.hw.draw import encode_jpeg
from edge.model import Detection, ItemEvent, PlateEvidence, WeightEvent
from edge.mqtt import envelope
from edge.mqtt.validation import problems
from edge.node.appearance_feed import AppearanceFeed
from edge.node.gallery_feed import GalleryFeed
from edge.node.items import ItemStep
from edge.outbox.store import OutboxRow
from edge.planogram import Planogram, parse_planogram
from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, jittered_crop
from edge.sim.scenario import Item
from edge.vision.appearance_embed import CropEmbedder
from tests.node.gallery_items import T0, RingCamera, item, node_config
from tests.plugins.waiting import wait_until

GOLDEN = Item(sku="GOLDEN", unit_g=182.0, labels=["apple"], look="Golden-Delicious")
PINK = Item(sku="PINK", unit_g=185.0, labels=["apple"], look="Pink-Lady")
BOX = (60, 100, 188, 228)  # where the item shows in the 640x480 frame (plate p1 is the left half)


@dataclass(frozen=True)
class Submitted:
    """What Outbox.submit returns, as the gallery feed reads it."""

    event_id: str
    seq: int


class GatedGallery(Gallery):
    """The real gallery, whose image reads on the refresh thread wait while `gate` is clear."""

    def __init__(self, path: Path, settings: Any) -> None:
        super().__init__(path, settings)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def image(self, example_id: int) -> bytes | None:
        if threading.current_thread().name == "appearance" and not self.gate.is_set():
            self.waiting.set()
            self.gate.wait(30.0)
        return super().image(example_id)


class Shelf:
    def __init__(self, tmp_path: Path, model: Path, images: Path) -> None:
        self.config = node_config(tmp_path)
        self.planogram = _planogram()
        self.camera = RingCamera()
        self.items = ItemStep(self.config, planogram=self.planogram)
        self.feed = GalleryFeed(self.config, cast(Any, self.camera), lambda: self.planogram)
        self.gallery = GatedGallery(gallery_path(self.config), self.config.gallery)
        counters = self.feed.counters
        self.appearance = AppearanceFeed(self.config, cast(Any, self.camera), self.items.stage, self.gallery,
                                         lambda: self.planogram, CropEmbedder(model / "detect.tflite"), "crop-v1:test",
                                         changes=lambda: counters["stored"] + counters["review_answers"])
        self.feed.admit = self.appearance.admits
        self.feed.appearance_status = self.appearance.status
        self.teach, self.test = PhotoLibrary(images, TEACH), PhotoLibrary(images, TEST)
        self.rng = np.random.default_rng(15)
        self.t = T0
        self.seq = 0

    def look(self, sku: Item, library: PhotoLibrary, index: int) -> np.ndarray:
        photos = library.photos_for(sku)
        return jittered_crop(library.image(photos[index % len(photos)]), self.rng)

    def show(self, crop: np.ndarray) -> float:
        """A frame with the item in the hand over plate p1, analysed: the detector's 'apple' box on it."""
        self.t += 5.0
        image = np.full((480, 640, 3), 96, np.uint8)
        image[BOX[1]:BOX[3], BOX[0]:BOX[2]] = crop
        self.camera.ring.push(self.t + 0.5, image).detections = (Detection("apple", 52, 0.8, BOX),)
        return self.t

    def accepted_pick(self, sku: Item, index: int) -> None:
        """An item event fusion accepted (as the node hands it to the gallery feed) and its frame."""
        t = self.show(self.look(sku, self.teach, index))
        self.seq += 1
        self.feed.on_item(item(sku.sku, t=t), Submitted(str(uuid.uuid4()), self.seq))

    def twin_pick(self, sku: Item, index: int) -> ItemEvent:
        """A pick of 183.5 g on p1 (between the two: the weight cannot tell) shown with a held-out photo,
        through the node's order: evidence, the appearance descriptors, fusion."""
        t = self.show(self.look(sku, self.test, index))
        event = WeightEvent(t, t + 1.0, {"p1": -183.5}, -183.5, 0.8)
        evidence = self.appearance.describe(event, {"p1": PlateEvidence("p1", {"apple": (0.8, 0.7)}, 5, True)})
        items = self.items.weight_event(event, evidence, True, t + 1.1) + self.items.flush()
        assert len(items) == 1, items
        return items[0]

    def trusted(self) -> bool:
        return "p1" in self.appearance.status()["trusted_plates"]


@pytest.fixture()
def shelf(tmp_path: Path, shared_model_dir: Path, shared_images_dir: Path) -> Any:
    shelf = Shelf(tmp_path, shared_model_dir, shared_images_dir)
    shelf.feed.start()
    shelf.appearance.start()
    yield shelf
    shelf.gallery.gate.set()
    shelf.appearance.stop()
    shelf.feed.stop()
    shelf.gallery.close()


def test_a_twin_pick_is_flagged_until_the_gallery_teaches_the_splitter(shelf: Shelf) -> None:
    first = shelf.twin_pick(PINK, 0)
    assert first.review_required and "twin" in first.review_reasons
    assert "appearance" not in first.vision

    for i in range(6):  # a few examples each: the splitter checks itself and abstains
        shelf.accepted_pick(GOLDEN, i)
        shelf.accepted_pick(PINK, i)
    assert wait_until(lambda: shelf.appearance.counters["refreshes"] >= 2 and
                      sum(shelf.appearance.status()["plates"][0]["examples"].values()) == 12, timeout=30)
    assert not shelf.trusted()
    early = shelf.twin_pick(PINK, 1)
    assert early.review_required and "twin" in early.review_reasons

    for i in range(6, 32):
        shelf.accepted_pick(GOLDEN, i)
        shelf.accepted_pick(PINK, i)
    assert wait_until(shelf.trusted, timeout=60), shelf.appearance.status()
    for sku, index in ((PINK, 2), (GOLDEN, 3)):
        settled = shelf.twin_pick(sku, index)
        assert [line.sku for line in settled.lines] == [sku.sku], settled
        assert "twin" not in settled.review_reasons
        assert cast(dict[str, Any], settled.vision["appearance"])["sku"] == sku.sku
        assert settled.confidence > early.confidence + 0.3
        body = item_event_to_dict(settled)
        assert body["evidence"]["vision"]["appearance"]["sku"] == sku.sku  # the vote on the wire, as the schema lets it
        row = OutboxRow(7, str(uuid.uuid4()), "item", settled.t_end, body)
        assert problems("event", envelope.event_payload(row, "s1", "n1", session=1, historical=False)) == []

    status = shelf.feed.status()
    assert status is not None
    part = status.to_json()["appearance"]
    assert part["trusted_plates"] == ["p1"] and part["plates"][0]["examples"] == {"GOLDEN": 32, "PINK": 32}
    assert part["counters"]["described"] == 2 and part["describe_ms"]["max"] is not None
    described = shelf.gallery.descriptors("crop-v1:test")
    assert {sku: len(rows) for sku, rows in described.items()} == {"GOLDEN": 32, "PINK": 32}  # each once


def test_a_refresh_does_not_hold_up_the_processing_thread(shelf: Shelf) -> None:
    for i in range(30):
        shelf.accepted_pick(GOLDEN, i)
        shelf.accepted_pick(PINK, i)
    assert wait_until(shelf.trusted, timeout=60), shelf.appearance.status()
    refreshes = shelf.appearance.counters["refreshes"]

    shelf.gallery.gate.clear()  # the next refresh will wait inside the gallery
    for sku, index in ((GOLDEN, 40), (PINK, 41)):  # examples added behind the feed: not described yet
        jpeg = encode_jpeg(shelf.look(sku, shelf.teach, index), 90)
        shelf.gallery.add(sku.sku, Crop("p1", shelf.show(np.zeros((128, 128, 3), np.uint8)), "detection", "apple",
                                        (0, 0, 128, 128), jpeg), "auto", 0.9995)
    shelf.appearance.poke()
    assert wait_until(shelf.gallery.waiting.is_set, timeout=10)

    settled = shelf.twin_pick(PINK, 5)  # decided with the splitter in use while the refresh waits
    assert [line.sku for line in settled.lines] == ["PINK"] and "twin" not in settled.review_reasons
    assert shelf.appearance.counters["refreshes"] == refreshes  # still stuck
    shelf.gallery.gate.set()
    assert wait_until(lambda: shelf.appearance.counters["refreshes"] == refreshes + 1, timeout=30)
    assert shelf.appearance.status()["plates"][0]["examples"] == {"GOLDEN": 31, "PINK": 31}


def _planogram() -> Planogram:
    catalogue = [{"sku": i.sku, "name": i.sku, "unit_weight_g": i.unit_g, "unit_sigma_g": 1.5, "labels": i.labels}
                 for i in (GOLDEN, PINK)]
    document = {"format": 2, "id": "pg", "version": 1, "catalogue": catalogue,
                "plates": {"p1": [{"sku": "GOLDEN", "stock": 40}, {"sku": "PINK", "stock": 40}], "p2": []}}
    return parse_planogram(json.dumps(document), ["p1", "p2"])
