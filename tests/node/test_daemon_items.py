"""The daemon end to end with a real mosquitto: the hub publishes the planogram retained, a simulated pick
follows, and the hub receives the item event, valid against the schema and naming its weight event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.broker import LocalBroker, mosquitto_available
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.hub.tracker import HubTracker
from edge.hub.watcher import HubWatcher, hub_section
from edge.mqtt.topics import Topics
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from edge.sim.pty_shelf import PtyShelf
from tests.mqtt.live import records, send
from tests.plugins.waiting import wait_until

needs_mosquitto = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")


def planogram_applied(watcher: HubWatcher) -> bool:
    return any(r.payload and r.payload.get("command") == "planogram" and r.payload.get("ok")
               for r in records(watcher, "resp"))


def weighing_settled(socket: Path) -> bool:
    """The daemon's weigher (its status in `status` on the control socket) has measured the sample rate, every
    plate is past its warm-up and quiet, and the shelf is stable."""
    answer = CliRunner().invoke(cli, ["status", "--json", "--socket", str(socket)])
    if not answer.output.startswith("{"):
        return False
    weights = json.loads(answer.output).get("parts", {}).get("weighing") or {}
    plates = (weights.get("plates") or {}).values()
    return (weights.get("samples_per_s") is not None and bool(weights.get("shelf_stable")) and bool(plates)
            and all(plate["state"] == "quiet" for plate in plates))


def events_of(watcher: HubWatcher, kind: str) -> list[dict[str, object]]:
    return [r.payload for r in records(watcher, "event") if r.payload and r.payload.get("kind") == kind]


@needs_mosquitto
def test_planogram_then_a_pick_gives_a_valid_item_event_at_the_hub(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker").start()
    config_path, config = write_node_config(tmp_path, broker.port)
    layout = ShelfLayout.from_config(config, seed=6)
    install_factory_calibration(config, layout)
    quiet = generate_scenario(6, 300.0, layout).model_copy(update={"actions": [], "duration_s": 300.0})
    topics = Topics(config.mqtt.topic_prefix, config.node.store_id, config.node.node_id)
    send(broker.port, topics.planogram, json.dumps(planogram_document(quiet)), retain=True)
    watcher = HubWatcher(hub_section(port=broker.port), client_id="test-hub")
    daemon: subprocess.Popen[bytes] | None = None
    with PtyShelf(quiet, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        try:
            watcher.start()
            log = (tmp_path / "node.log").open("wb")
            daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                       "--socket", str(tmp_path / "control.sock")],
                                      stdout=log, stderr=subprocess.STDOUT)
            node_log = tmp_path / "node.log"
            assert wait_until(lambda: planogram_applied(watcher), 60, step=0.2), node_log.read_text()[-3000:]
            assert wait_until(lambda: weighing_settled(tmp_path / "control.sock"), 30, step=0.2), \
                CliRunner().invoke(cli, ["status", "--json", "--socket", str(tmp_path / "control.sock")]).output
            truth = shelf.pick("p2")
            assert wait_until(lambda: bool(events_of(watcher, "item")), 60, step=0.2), node_log.read_text()[-3000:]
            answer = CliRunner().invoke(cli, ["status", "--json", "--socket", str(tmp_path / "control.sock")])
            fusion = json.loads(answer.output)["parts"]["fusion"]  # the node's stats carry fusion's status
        finally:
            if daemon is not None:
                daemon.terminate()
                daemon.wait(20)
            watcher.stop()
            broker.stop()
    tracker: HubTracker = watcher.tracker
    (node,) = tracker.nodes.values()
    assert node.invalid == 0  # every payload, the item event's too, valid against the shipped schemas
    (item,) = events_of(watcher, "item")
    body = item["body"]
    assert isinstance(body, dict)
    (weight,) = events_of(watcher, "weight")
    assert body["weight_events"] == [{"event_id": weight["event_id"], "seq": weight["seq"]}]
    assert body["action"] == "pick" and [line["plate"] for line in body["lines"]] == ["p2"]
    assert fusion["item_events"] == 1 and fusion["weight_events"] == 1
    assert fusion["planogram"]["id"] == planogram_document(quiet)["id"]
    assert set(fusion["stock"]) >= {"p2"}
    if not body["review"]["required"]:
        assert [(line["sku"], line["count"]) for line in body["lines"]] == [(truth.sku, truth.count)]
