"""The link's network loop wakes on demand (edge/mqtt/wakeup.py): a stored event is published without waiting
for a poll. Real mosquitto, real paho client, real outbox."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as paho

from edge.demo.broker import LocalBroker
from edge.mqtt.wakeup import WakeableLoop
from tests.mqtt.live import hub_watcher, live_node, records
from tests.plugins.waiting import wait_until

LONG_S = 30.0  # a wait that a missing wake-up would run to the end (the test would then fail on its counter)


def connected_client(broker: LocalBroker) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="wakeup-test")
    client.connect(broker.host, broker.port)
    return client


def test_a_wake_from_another_thread_ends_the_wait(broker: LocalBroker) -> None:
    client = connected_client(broker)
    loop = WakeableLoop(client)
    try:
        assert loop.once(LONG_S) == paho.MQTT_ERR_SUCCESS  # the CONNACK
        assert wait_until(client.is_connected, 5)
        waker = threading.Timer(0.2, loop.wake)
        waker.start()
        assert loop.once(LONG_S) == paho.MQTT_ERR_SUCCESS
        waker.join()
        assert loop.wakeups == 1
        loop.wake()
        loop.wake()  # several wake-ups before the loop runs are one
        assert loop.once(LONG_S) == paho.MQTT_ERR_SUCCESS and loop.wakeups == 2
    finally:
        client.disconnect()
        loop.close()
    loop.wake()  # after close (a late append while the node stops): silently nothing


def test_a_closed_connection_is_reported_not_raised(broker: LocalBroker) -> None:
    client = connected_client(broker)
    loop = WakeableLoop(client)
    try:
        loop.once(LONG_S)
        client.disconnect()
        assert loop.once(0.1) != paho.MQTT_ERR_SUCCESS
    finally:
        loop.close()


def test_a_stored_event_wakes_the_link_and_reaches_the_hub(tmp_path: Path, broker: LocalBroker) -> None:
    with hub_watcher(broker.port) as watcher, live_node(tmp_path, broker.port) as node:
        assert wait_until(lambda: node.link.connected, 10)
        woken = node.link._loop.wakeups
        info = node.outbox.append("weight", {"delta_g": -5.0, "plates": ["p1"]}, produced_at=1.0)
        assert wait_until(lambda: any(r.payload and r.payload.get("seq") == info.seq
                                      for r in records(watcher, "event")), 10)
        # The append wakes the loop after its commit; the network thread may already have published the row on a
        # plain timeout in between, and takes the pending wake-up on its next iteration: wait for that one
        assert wait_until(lambda: node.link._loop.wakeups > woken, 10)
