"""What a day of backlog costs each part: bytes per queued event in a store broker whose uplink is down, and
bytes per event in a node's outbox file; measured with the real payloads the chain benchmark received.

    broker_backlog(payloads, count)   # mosquitto with its bridge's uplink down: RSS and persistence per event
    outbox_backlog(bodies, count)     # edge.outbox.Outbox: file bytes per pending event
    bridge_drain(...)                 # a queued backlog through a bridge into a quorum queue: events/s
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.fleet_hub import BrokerCounters
from bench.fleet_nodes import sample
from bench.tcp_proxy import CuttableProxy
from edge.config.outbox import OutboxSection
from edge.demo.broker import LocalBroker, free_port
from edge.outbox.store import Outbox

SETTLE_S = 3.0  # $SYS is published every second; let the counters catch up


@dataclass(frozen=True, slots=True)
class Drain:
    """A store broker's queued backlog sent through its bridge into a quorum queue of the cluster."""

    events: int
    seconds: float | None  # from the uplink's restore to the last event in the quorum queue; None: not all came

    @property
    def per_s(self) -> float | None:
        return None if not self.seconds else self.events / self.seconds


@dataclass(frozen=True, slots=True)
class BacklogSize:
    part: str
    events: int
    bytes_per_event_memory: float | None  # RSS growth per queued event (store broker)
    bytes_per_event_disk: float  # persistence file (broker) or SQLite file (outbox) per pending event
    payload_bytes: float  # mean MQTT payload of the events used


def broker_backlog(payloads: list[bytes], count: int = 20_000) -> BacklogSize:
    """A store mosquitto whose bridge cannot reach the chain: `count` events published at QoS 1 stay queued."""
    with tempfile.TemporaryDirectory(prefix="shelf-backlog-") as tmp:
        dead = free_port()  # nothing listens there: the uplink is down for the whole measurement
        broker = LocalBroker(Path(tmp), extra_conf=[
            "sys_interval 1", "autosave_interval 1800", "autosave_on_changes false", "connection chain-probe",
            f"address 127.0.0.1:{dead}", "bridge_protocol_version mqttv311", "try_private false",
            "cleansession false", "topic shelf/# out 1", "restart_timeout 5 30"])
        # persistence on: autosave only at the stop, so the file is measured once, whole
        broker.start()
        counters = BrokerCounters(broker.port, topics=("$SYS/broker/store/messages/count",))
        try:
            counters.start()
            time.sleep(SETTLE_S)
            before = sample(broker.proc.pid) if broker.proc else None
            _publish(broker.port, payloads, count)
            time.sleep(SETTLE_S)
            after = sample(broker.proc.pid) if broker.proc else None
        finally:
            counters.stop()
            broker.stop()  # SIGTERM: the persistence file is written now
        db = Path(tmp) / "mosquitto.db"
        disk = db.stat().st_size if db.exists() else 0
    memory = (after.rss_bytes - before.rss_bytes) / count if before and after else None
    return BacklogSize("store broker (mosquitto), bridge down", count, memory, disk / count,
                       sum(map(len, payloads)) / len(payloads))


def _publish(port: int, payloads: list[bytes], count: int, topic: str = "shelf/probe/n001/events") -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="backlog-probe")
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1)
                 for payload in itertools.islice(itertools.cycle(payloads), count)]
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()


def outbox_backlog(bodies: list[tuple[str, dict[str, Any]]], count: int = 5_000) -> BacklogSize:
    """`count` events appended to a node's outbox (durable, as the node does) with no broker to drain it."""
    with tempfile.TemporaryDirectory(prefix="shelf-outbox-") as tmp:
        path = Path(tmp) / "outbox.sqlite3"
        outbox = Outbox(path, OutboxSection())
        try:
            for kind, body in itertools.islice(itertools.cycle(bodies), count):
                outbox.append(kind, body, produced_at=time.time())
        finally:
            outbox.close()
        disk = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return BacklogSize("node outbox (SQLite), broker unreachable", count, None, disk / count, 0.0)


def bridge_drain(mqtt_port: int, amqp_port: int, store: tuple[str, str], reader: tuple[str, str],
                 payloads: list[bytes], count: int, queue: str = "chain-probe", timeout: float = 300.0) -> Drain:
    """`count` events queued in a store broker whose uplink (a cuttable proxy to a cluster node's MQTT port) is
    down, then the uplink restored and timed until all are in the quorum queue `queue` (bound to `probe.#`).
    The store user (`store`) may publish `probe.*`; `reader` may declare and read `chain-*` queues. The time
    includes the bridge's reconnect (keepalive 10 s, restart_timeout 1..5 s)."""
    import pika

    credentials = pika.PlainCredentials(*reader)
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", amqp_port, "/", credentials))
    try:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        try:
            channel.queue_bind(queue, "amq.topic", routing_key="probe.#")
            return _drain_into(channel, connection, mqtt_port, store, payloads, count, queue, timeout)
        finally:
            channel.queue_delete(queue)
    finally:
        connection.close()


def _drain_into(channel: Any, connection: Any, mqtt_port: int, store: tuple[str, str], payloads: list[bytes],
                count: int, queue: str, timeout: float) -> Drain:
    uplink = CuttableProxy(target_port=mqtt_port)
    uplink.cut()  # down from the start: the bridge's queue fills, as during an outage
    uplink.start()
    with tempfile.TemporaryDirectory(prefix="shelf-drain-") as tmp:
        broker = LocalBroker(Path(tmp), persistence=False, extra_conf=[
            "connection chain-probe", f"address 127.0.0.1:{uplink.port}",
            "bridge_protocol_version mqttv311", "try_private false", "cleansession false",
            f"remote_username {store[0]}", f"remote_password {store[1]}", "remote_clientid chain-probe",
            "keepalive_interval 10", "restart_timeout 1 5", "notifications false", "topic probe/# out 1"])
        broker.start()
        try:
            _publish(broker.port, payloads, count, topic="probe/store/n001/events")
            uplink.restore()
            restored = time.monotonic()
            while time.monotonic() < restored + timeout:
                if channel.queue_declare(queue, passive=True).method.message_count >= count:
                    return Drain(count, time.monotonic() - restored)
                connection.sleep(0.2)
            return Drain(count, None)
        finally:
            broker.stop()
            uplink.stop()
