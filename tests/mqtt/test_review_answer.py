"""cmd/review_answer over a real mosquitto: the hub's answer labels the flagged event's crops in the gallery,
an unknown event id and bad lines are answered invalid_params, and every answer is valid against resp.json.
It is taken with [mqtt] allow_state_commands false (the default): it changes no weighing state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from edge.gpio.maintenance import MaintenanceMode
from edge.mqtt.commands import CommandRegistry
from edge.node.gallery_feed import GalleryFeed
from edge.outbox import Outbox
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
