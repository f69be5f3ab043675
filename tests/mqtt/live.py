"""Helpers for tests against a real broker: a node link, a hub watcher, a command sender."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from edge.hub.tracker import HubRecord
from edge.hub.watcher import HubWatcher, hub_section
from edge.mqtt.commands import CommandRegistry
from edge.mqtt.link import MqttLink
from edge.outbox import Outbox, open_outbox
from edge.planogram import Planogram
from tests.mqtt.nodecfg import NODE, STORE, node_config

ROOT = f"shelf/{STORE}/{NODE}"


@dataclass
class LiveNode:
    link: MqttLink
    outbox: Outbox
    planograms: list[Planogram] = field(default_factory=list)


@contextmanager
def live_node(tmp_path: Path, port: int, commands: CommandRegistry | None = None, **config: Any) -> Iterator[LiveNode]:
    cfg = node_config(tmp_path, port, **config)
    outbox = open_outbox(cfg)
    node = LiveNode(link=None, outbox=outbox)  # type: ignore[arg-type]
    node.link = MqttLink(cfg, outbox, commands=commands, stats=lambda: {"serial": {"frames": 1}},
                         on_planogram=node.planograms.append)
    node.link.start()
    try:
        yield node
    finally:
        node.link.stop()
        outbox.close()


@contextmanager
def hub_watcher(port: int, client_id: str = "test-hub") -> Iterator[HubWatcher]:
    watcher = HubWatcher(hub_section(port=port), client_id=client_id)
    watcher.start()
    # the SUBACK, not only the CONNACK: an event published before the broker granted the filter would be lost
    assert watcher.subscribed.wait(10), "hub watcher could not connect and subscribe"
    try:
        yield watcher
    finally:
        watcher.stop()


def send(port: int, topic: str, payload: bytes | str, retain: bool = False) -> None:
    """Publish one QoS 1 message and wait for its PUBACK."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", protocol=paho.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def broker_subscribed(broker_log: str, topic_filter: str) -> bool:
    """The broker has a subscription to `topic_filter`: mosquitto started with `log_type subscribe` logs
    `<client id> <qos> <filter>` when it takes a SUBSCRIBE, before its SUBACK (for a client the test does not own,
    such as the node's link)."""
    return any(line.split()[3:] == [topic_filter] for line in broker_log.splitlines())


def records(watcher: HubWatcher, kind: str) -> list[HubRecord]:
    with watcher._changed:
        return [r for r in watcher.records if r.type == kind]
