"""edge/node/gallery_feed.py: item events into the gallery through the real ItemStep hook, the real outbox,
the real look-back ring and SQLite: accepted sure events give examples, flagged ones never do (their crops
wait for a reviewer), restock sessions label restocks, review answers go through the real command registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.gallery import Gallery
from edge.gpio.maintenance import MaintenanceMode
from edge.mqtt.commands import CommandRegistry
from edge.mqtt.validation import problems
from edge.node.gallery_feed import GalleryFeed
from edge.outbox import Outbox
from tests.node.gallery_items import T0, RingCamera, apple_box, item, node_config, planogram
from tests.plugins.waiting import wait_until


@dataclass
class Rig:
    """The feed and the outbox its item events were stored in (as in the node)."""

    feed: GalleryFeed
    outbox: Outbox

    def publish(self, event: Any) -> str:
        """As ItemStep does: the item event into the outbox, then the hook with what the outbox returned."""
        info = self.outbox.submit("item", {"action": event.action}, event.t_end)
        assert info is not None
        self.feed.on_item(event, info)
        return str(info.event_id)


def rig_for(tmp_path: Path, camera: RingCamera, extra: str = "") -> Rig:
    config = node_config(tmp_path, extra)
    feed = GalleryFeed(config, camera, planogram=planogram, clock=lambda: T0 + 100)  # type: ignore[arg-type]
    feed.maintenance = MaintenanceMode()
    return Rig(feed, Outbox(tmp_path / "outbox.sqlite3", config.outbox))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    camera = RingCamera()
    for i in range(10):
        camera.show(T0 - 0.5 + 0.2 * i, apple_box(0.6 + 0.03 * i))
    made = rig_for(tmp_path, camera)
    made.feed.start()
    yield made
    made.feed.stop()
    made.outbox.close()


def settled(feed: GalleryFeed, key: str, n: int) -> bool:
    status = feed.status()
    return status is not None and status.counters[key] >= n


def call(registry: CommandRegistry, name: str, params: dict[str, Any]) -> dict[str, Any]:
    response = registry.dispatch(name, json.dumps({"transaction": "t", "params": params}).encode())
    assert problems("resp", response) == []
    return response


def test_a_sure_accepted_event_gives_an_example_of_its_sku(rig: Rig) -> None:
    feed = rig.feed
    event_id = rig.publish(item("APPLE-GS", 0.9995))
    assert wait_until(lambda: settled(feed, "auto", 1))
    (example,) = feed.gallery.examples()
    assert (example.sku, example.source, example.event_id, example.region, example.label) == (
        "APPLE-GS", "auto", event_id, "detection", "apple")
    assert example.confidence == pytest.approx(0.9995)
    image = feed.gallery.image(example.id)
    assert image is not None and image[:2] == b"\xff\xd8"


def test_below_the_threshold_or_without_camera_nothing_is_stored(rig: Rig) -> None:
    feed = rig.feed
    rig.publish(item("APPLE-GS", 0.998))  # accepted by fusion, but under [gallery] min_confidence 0.999
    rig.publish(item("APPLE-GS", 0.9995, camera="down"))
    assert wait_until(lambda: settled(feed, "remembered", 2))
    assert feed.gallery.examples() == []
    status = feed.status()
    assert status is not None and status.items == 2  # remembered for a reviewer all the same


def test_flagged_events_never_fill_the_gallery(rig: Rig) -> None:
    feed = rig.feed
    for i in range(5):
        rig.publish(item("APPLE-GS", 0.9999, flagged=True, t=T0 + 0.01 * i))  # sure, but flagged
    assert wait_until(lambda: settled(feed, "pending", 5))
    assert feed.gallery.examples() == []
    status = feed.status()
    assert status is not None and status.pending == 5 and status.examples == 0


def test_the_camera_not_seeing_the_item_gives_no_crop(tmp_path: Path) -> None:
    rig = rig_for(tmp_path, RingCamera())  # an empty ring: nothing seen
    rig.feed.start()
    try:
        rig.publish(item("APPLE-GS", 0.9995))
        assert wait_until(lambda: settled(rig.feed, "not_seen", 1))
        assert rig.feed.gallery.examples() == []
    finally:
        rig.feed.stop()
        rig.outbox.close()


def test_review_answer_labels_a_flagged_events_crops(rig: Rig) -> None:
    feed = rig.feed
    registry = CommandRegistry()  # allow_state_commands false, as on a default node
    feed.register(registry)
    event_id = rig.publish(item("APPLE-GS", 0.7, flagged=True, alternatives=("APPLE-PL",)))
    assert wait_until(lambda: settled(feed, "pending", 1))
    answer = call(registry, "review_answer", {"event_id": event_id, "lines": [{"sku": "APPLE-PL", "count": 1}],
                                              "reviewer": "anna"})
    assert answer["ok"], answer
    assert answer["result"]["correct"] is False and answer["result"]["labelled_crops"] == 1
    (example,) = feed.gallery.examples()
    assert (example.sku, example.source, example.event_id) == ("APPLE-PL", "review", event_id)
    status = feed.status()
    assert status is not None and status.reviews.answered == 1 and status.reviews.node_wrong == 1
    assert status.counters["review_answers"] == 1
    # persisted: a new process reading the file sees the outcome for calibration
    assert Gallery(feed.gallery.path, readonly=True).calibration_rows() == [(0.7, False, True)]


@pytest.mark.parametrize(("params", "message"), [
    ({"event_id": "6f0c1d2e-0000-4000-8000-00000000dead", "lines": []}, "unknown event id"),
    ({"event_id": "{event}", "lines": [{"sku": "APPLE-XX", "count": 1}]}, "not in the planogram's catalogue"),
    ({"event_id": "{event}", "lines": [{"sku": "APPLE-PL", "count": -1}]}, "count must be"),
    ({"event_id": "{event}", "lines": "APPLE-PL"}, "params.lines must be a list"),
    ({"event_id": "{event}", "lines": [], "sku": "APPLE-PL"}, "unknown params key"),
])
def test_review_answer_refuses_what_is_wrong(rig: Rig, params: dict[str, Any], message: str) -> None:
    feed = rig.feed
    registry = CommandRegistry()
    feed.register(registry)
    event_id = rig.publish(item("APPLE-GS", 0.7, flagged=True))
    assert wait_until(lambda: settled(feed, "pending", 1))
    params = {k: (event_id if v == "{event}" else v) for k, v in params.items()}
    answer = call(registry, "review_answer", params)
    assert not answer["ok"] and answer["error"]["code"] == "invalid_params"
    assert message in answer["error"]["message"]
    assert feed.gallery.examples() == [] and feed.gallery.status().reviews.answered == 0


def test_restock_session_labels_restocks_with_the_declared_sku(rig: Rig) -> None:
    feed = rig.feed
    assert feed.maintenance is not None
    with pytest.raises(Exception, match="not in the planogram's catalogue"):
        feed.restock({"sku": "NOPE"})
    assert not feed.maintenance.on
    assert feed.restock({"sku": "APPLE-PL"}) == {"maintenance": True, "restock_sku": "APPLE-PL"}
    # fusion's guess says Granny Smith, the weight fits Pink Lady too: the operator's word labels it
    rig.publish(item("APPLE-GS", 0.6, action="restock", alternatives=("APPLE-PL",)))
    rig.publish(item("JUICE-A", 0.99, action="restock", plate="p1"))  # the weight does not fit: not labelled
    rig.publish(item("APPLE-PL", 0.99, action="restock", flagged=True))  # flagged: waits for a reviewer
    assert wait_until(lambda: settled(feed, "restock", 1) and settled(feed, "remembered", 1)
                      and settled(feed, "pending", 1))
    (example,) = feed.gallery.examples()
    assert (example.sku, example.source) == ("APPLE-PL", "restock")
    assert feed.status().counters["restock_mismatch"] == 1  # type: ignore[union-attr]
    feed.maintenance.set(False, by="test")
    assert feed.restock({}) == {"maintenance": False, "restock_sku": None}  # maintenance off ends the session


def test_a_full_queue_skips_crops_and_never_blocks(tmp_path: Path) -> None:
    rig = rig_for(tmp_path, RingCamera(), "[gallery]\nqueue_size = 1\n")
    for i in range(4):  # the worker is not started: nothing drains the queue
        rig.publish(item("APPLE-GS", 0.9995, t=T0 + i))
    assert rig.feed.counters["skipped_busy"] == 3
    rig.feed.start()
    rig.feed.stop()
    rig.outbox.close()


def test_real_fusion_through_the_item_step_hook(tmp_path: Path) -> None:
    """ItemStep (real fusion, tests/fusion's shelf) -> outbox -> on_item -> gallery: a sure gum pick gives an
    example (its hand region: gum has no detector label), a carrot under the gallery's threshold gives none,
    an apple/carrot twin is flagged and its crop waits for a reviewer."""
    from edge.model import PlateRegion
    from edge.node.items import ItemStep
    from tests.fusion.helpers import DOCUMENT, seen, weight_event
    from tests.node.test_items import config as items_config

    document = tmp_path / "planogram.json"
    document.write_text(json.dumps(DOCUMENT))
    config = items_config(tmp_path, f'[fusion]\nplanogram = "{document}"\n')
    (tmp_path / "state").mkdir()  # as the node's open_state_dir does
    camera = RingCamera()
    camera.regions = [PlateRegion(f"p{i + 1}", ((200 * i, 0), (200 * (i + 1), 0), (200 * (i + 1), 480), (200 * i, 480)))
                      for i in range(3)]
    from edge.model import Detection

    for t in range(0, 40):
        camera.show(T0 - 1.0 + t * 0.25, Detection("person", 0, 0.9, (380, 50, 560, 300)),
                    Detection("apple", 52, 0.7, (230, 100, 330, 200)))
    outbox = Outbox(tmp_path / "outbox.sqlite3", config.outbox)
    step = ItemStep(config, outbox.submit)
    feed = GalleryFeed(config, camera, planogram=lambda: step.planogram)  # type: ignore[arg-type]
    step.on_item = feed.on_item
    feed.start()
    try:
        gum = step.weight_event(weight_event({"p3": -32.0}, t=0.0), seen("p3"), True, T0 + 1.1)
        carrot = step.weight_event(weight_event({"p2": -1035.0}, t=3.0), seen("p2", carrot=0.7), True, T0 + 4.1)
        twin = step.weight_event(weight_event({"p2": -1030.0}, t=6.0), seen("p2"), True, T0 + 7.1)
        assert gum[0].confidence >= 0.999 and not gum[0].review_required
        assert not carrot[0].review_required and carrot[0].confidence < 0.999
        assert twin[0].review_required
        assert wait_until(lambda: settled(feed, "auto", 1) and settled(feed, "pending", 1)
                          and settled(feed, "remembered", 1))
        (example,) = feed.gallery.examples()
        assert (example.sku, example.plate, example.region, example.source) == ("GUM", "p3", "hand", "auto")
        status = feed.status()
        assert status is not None and status.pending == 1 and status.items == 3
    finally:
        feed.stop()
        outbox.close()


def test_the_splitters_guard_keeps_a_contradicted_crop_out(rig: Rig) -> None:
    feed = rig.feed
    feed.admit = lambda sku, crop: sku != "APPLE-PL"  # as a trusted splitter that sees a Granny Smith
    rig.publish(item("APPLE-PL", 0.9995))
    rig.publish(item("APPLE-GS", 0.9995, t=T0 + 0.1))
    assert wait_until(lambda: settled(feed, "not_admitted", 1) and settled(feed, "auto", 1))
    assert [e.sku for e in feed.gallery.examples()] == ["APPLE-GS"]
