"""cmd/review_answer over a real mosquitto: the hub's answer labels the flagged event's crops in the gallery
and sets fusion's shelf state right, an unknown event id and bad lines are answered invalid_params, and every
answer is valid against resp.json.
It is taken with [mqtt] allow_state_commands false (the default): it changes no weighing state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.gpio.maintenance import MaintenanceMode
from edge.model import PlateEvidence, WeightEvent
from edge.mqtt.commands import CommandRegistry
from edge.node.answers import STATE_FILE
from edge.node.gallery_feed import GalleryFeed
from edge.node.items import ItemStep
from edge.node.wiring import make_feedback
from edge.outbox import EnvelopeInfo, Outbox
from tests.mqtt.live import ROOT, hub_watcher, live_node, records, send
from tests.mqtt.test_stop_inflight import subscribed
from tests.node.gallery_items import T0, RingCamera, apple_box, item, node_config, planogram
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


def test_review_answer_over_mqtt_labels_the_crops(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker = mosquitto_factory(["log_type subscribe"])
    camera = RingCamera()
    for i in range(5):
        camera.show(T0 + 0.2 * i, apple_box())
    node_dir = tmp_path / "gallery-node"  # the gallery's node; live_node below makes the link's own
    node_dir.mkdir()
    config = node_config(node_dir)
    feed = GalleryFeed(config, camera, planogram=planogram)  # type: ignore[arg-type]
    feed.maintenance = MaintenanceMode()
    outbox = Outbox(tmp_path / "items.sqlite3", config.outbox)
    commands = CommandRegistry(allow_state_commands=False)
    feed.register(commands)
    feed.start()
    event = item("APPLE-GS", 0.7, flagged=True, alternatives=("APPLE-PL",))
    info = outbox.submit("item", {"action": "pick"}, event.t_end)
    assert info is not None
    feed.on_item(event, info)
    assert wait_until(lambda: feed.status() is not None and feed.status().pending == 1)  # type: ignore[union-attr]
    try:
        with hub_watcher(broker.port, client_id="hub-review") as hub, live_node(tmp_path, broker.port,
                                                                                commands=commands) as node:
            assert wait_until(lambda: node.link.connected and subscribed(broker, f"{ROOT}/cmd/+"), timeout=10)
            send(broker.port, f"{ROOT}/cmd/review_answer", json.dumps(
                {"transaction": "r-1", "params": {"event_id": info.event_id,
                                                  "lines": [{"sku": "APPLE-PL", "count": 1}]}}))
            send(broker.port, f"{ROOT}/cmd/review_answer", json.dumps(
                {"transaction": "r-2", "params": {"event_id": "6f0c1d2e-0000-4000-8000-00000000dead", "lines": []}}))
            send(broker.port, f"{ROOT}/cmd/review_answer", json.dumps(
                {"transaction": "r-3", "params": {"event_id": info.event_id, "lines": [{"sku": "APPLE-PL"}]}}))
            assert wait_until(lambda: len(records(hub, "resp")) >= 3, timeout=20)
        answers = {r.payload["transaction"]: r for r in records(hub, "resp")}
        assert all(r.valid for r in answers.values()), [r.problems for r in answers.values()]
        first = answers["r-1"].payload
        assert first["ok"] and first["result"]["labelled_crops"] == 1 and first["result"]["correct"] is False
        assert answers["r-2"].payload["error"]["code"] == "invalid_params"
        assert "unknown event id" in answers["r-2"].payload["error"]["message"]
        assert answers["r-3"].payload["error"]["code"] == "invalid_params"
        assert "count must be" in answers["r-3"].payload["error"]["message"]
        (example,) = feed.gallery.examples()
        assert (example.sku, example.source, example.event_id) == ("APPLE-PL", "review", info.event_id)
    finally:
        feed.stop()
        outbox.close()


def test_review_answer_over_mqtt_sets_fusions_shelf_state(tmp_path: Path,
                                                         mosquitto_factory: Callable[..., Broker]) -> None:
    # The node's own path: ItemStep (real fusion) -> outbox -> gallery ledger; the answer over the broker
    # reaches fusion (wiring.make_feedback, as the daemon wires it) and the outcome record in the state dir.
    broker = mosquitto_factory(["log_type subscribe"])
    node_dir = tmp_path / "items-node"
    node_dir.mkdir()
    config = node_config(node_dir)
    outbox = Outbox(tmp_path / "items.sqlite3", config.outbox)
    infos: list[EnvelopeInfo] = []

    def submit(kind: str, body: dict[str, Any], produced_at: float) -> EnvelopeInfo | None:
        info = outbox.submit(kind, body, produced_at)
        assert info is not None
        infos.append(info)
        return info

    items = ItemStep(config, submit, planogram())
    feed = GalleryFeed(config, None, planogram=lambda: items.planogram)
    items.on_item = feed.on_item
    make_feedback(config, items, feed)
    commands = CommandRegistry(allow_state_commands=False)
    feed.register(commands)
    feed.start()
    apple = {"p2": PlateEvidence("p2", {"apple": (0.8, 0.7)}, 20, True)}
    (put,) = items.weight_event(WeightEvent(T0, T0 + 1, {"p2": 184.0}, 184.0, 0.5, "settled"), apple, True, T0 + 1.1)
    assert put.misplaced and put.review_required  # an apple left on the juice plate: which of the look-alikes?
    truth = "APPLE-PL" if put.lines[0].sku == "APPLE-GS" else "APPLE-GS"
    assert wait_until(lambda: feed.ledger.item(infos[-1].event_id) is not None)
    try:
        with hub_watcher(broker.port, client_id="hub-review-fusion") as hub, \
                live_node(tmp_path, broker.port, commands=commands) as node:
            assert wait_until(lambda: node.link.connected and subscribed(broker, f"{ROOT}/cmd/+"), timeout=10)
            send(broker.port, f"{ROOT}/cmd/review_answer", json.dumps(
                {"transaction": "r-f", "params": {"event_id": infos[-1].event_id, "action": "put",
                                                  "lines": [{"sku": truth, "count": 1, "plate": "p2"}]}}))
            assert wait_until(lambda: len(records(hub, "resp")) >= 1, timeout=20)
        (answer,) = records(hub, "resp")
        assert answer.valid, answer.problems
        result = answer.payload["result"]
        assert result["correct"] is False and result["fusion"]["applied"] is True
        assert result["fusion"]["visitors"] == {"p2": [truth]} and result["fusion"]["stock"]["p2"] == {truth: 1}
        assert result["reliability"]["recorded"] and result["reliability"]["saved"]
        (pick,) = items.weight_event(WeightEvent(T0 + 30, T0 + 31, {"p2": -184.0}, -184.0, 0.5, "settled"), apple,
                                     True, T0 + 31.1)
        assert [line.sku for line in pick.lines] == [truth] and not pick.misplaced  # the visitor, as answered
        stored = json.loads((config.node.state_dir / STATE_FILE).read_text())
        assert [o["event_id"] for o in stored["outcomes"]] == [infos[0].event_id]
    finally:
        feed.stop()
        outbox.close()
