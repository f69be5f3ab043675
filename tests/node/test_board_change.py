"""Another MCU board on the node's port (the simulator restarted with another seed): the node tells the
weigher, the change shows in status and in a fresh birth at the hub, and confirm-board over MQTT ends it."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from edge.demo.broker import LocalBroker
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.waiting import wait_until


class Hub:
    """Births and command responses as a hub receives them."""

    def __init__(self, port: int, root: str) -> None:
        self.root = root
        self.births: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="test-hub")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(f"{root}/birth", 1), (f"{root}/resp/#", 1)])
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            target = self.births if message.topic.endswith("/birth") else self.responses
            target.append(json.loads(message.payload))

    def command(self, name: str, params: dict[str, Any]) -> None:
        self.client.publish(f"{self.root}/cmd/{name}", json.dumps({"transaction": name, "params": params}), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_new_board_is_shown_in_status_and_birth_until_confirmed(tmp_path: Path, broker: LocalBroker) -> None:
    _, config = write_node_config(tmp_path, broker.port)
    layout = ShelfLayout.from_config(config, seed=2)
    install_factory_calibration(config, layout)
    link = tmp_path / "shelf-tty"
    node = Node(config)
    hub = Hub(broker.port, f"shelf/{config.node.store_id}/{config.node.node_id}")
    first = PtyShelf(generate_scenario(2, 120.0, layout), layout, sps=80, link_path=link).start()
    try:
        node.start()
        assert wait_until(lambda: node.last_info is not None and len(hub.births) >= 1, 20), node.status_line()
        old_uid = node.last_info.uid if node.last_info else None
        assert node.status().weighing.board_changed is None
        assert hub.births[-1]["board_changed"] is None
        first.stop()
        second = PtyShelf(generate_scenario(3, 120.0, layout), layout, sps=80, link_path=link).start()
        try:
            assert wait_until(lambda: node.last_info is not None and node.last_info.uid != old_uid, 30), \
                node.status_line()
            change = node.status().weighing.board_changed
            assert change is not None and change.calibrated_with.uid == old_uid
            assert change.seen.uid == node.last_info.uid
            assert wait_until(lambda: hub.births[-1]["board_changed"] is not None, 10), hub.births
            assert hub.births[-1]["board_changed"]["seen"]["uid"] == change.seen.uid
            assert node.status().to_json()["weighing"]["board_changed"]["seen"]["uid"] == change.seen.uid

            hub.command("confirm-board", {})
            assert wait_until(lambda: any(r["command"] == "confirm-board" for r in hub.responses), 10)
            answer = next(r for r in hub.responses if r["command"] == "confirm-board")
            assert answer["ok"], answer
            assert node.status().weighing.board_changed is None
            assert wait_until(lambda: hub.births[-1]["board_changed"] is None, 10), hub.births[-1]
        finally:
            second.stop()
    finally:
        node.stop()
        hub.stop()
        first.stop()
