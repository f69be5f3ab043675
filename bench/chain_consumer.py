"""The chain's consumer: a durable quorum queue bound to the MQTT plugin's topic exchange, read over AMQP.

RabbitMQ's MQTT plugin publishes every MQTT message to `amq.topic` with the topic's `/` turned into `.`
(`shelf/store1/n001/events` -> routing key `shelf.store1.n001.events`). The queue is declared (durable,
`x-queue-type: quorum`, replicated on every cluster node) and bound before any store publishes: the exchange
drops what no queue is bound to. Each message goes through the hub's own tracker (validation, event_id
duplicates, seq gaps per node) and is acknowledged only after that, so a consumer that dies re-reads what it
had not acknowledged (duplicates, dropped by event_id). When its node goes away it connects to the next one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions

from bench.fleet_hub import unix_time
from edge.hub.tracker import HubTracker

RECONNECT_S = 1.0


class ChainConsumer:
    def __init__(self, amqp_ports: Sequence[int], username: str, password: str, queue: str, binding: str,
                 prefix: str = "shelf") -> None:
        self.queue, self.binding = queue, binding
        credentials = pika.PlainCredentials(username, password)
        self.parameters = [pika.ConnectionParameters("127.0.0.1", port, "/", credentials, heartbeat=10,
                                                     blocked_connection_timeout=30, connection_attempts=1)
                           for port in amqp_ports]
        self.tracker = HubTracker(prefix)
        self.lock = threading.Lock()
        self.deliveries = 0
        self.redelivered = 0
        self.reconnects = 0
        self.payload_bytes = 0
        self.arrivals: list[tuple[str, float, float]] = []  # (store, ts, receipt), unix s, events not backlog
        self.last_event_at = 0.0  # monotonic
        self.samples: dict[str, tuple[str, bytes, dict[str, Any]]] = {}  # kind -> (kind, payload, body): one each
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chain-consumer", daemon=True)

    def declare(self) -> None:
        """The quorum queue and its binding (idempotent), on the first node that answers."""
        connection = self._connect()
        try:
            channel = connection.channel()
            channel.queue_declare(self.queue, durable=True, arguments={"x-queue-type": "quorum"})
            channel.queue_bind(self.queue, "amq.topic", routing_key=self.binding)
        finally:
            connection.close()

    def start(self) -> ChainConsumer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15.0)

    def _connect(self) -> pika.BlockingConnection:
        errors = []
        for parameters in self.parameters:
            try:
                return pika.BlockingConnection(parameters)
            except pika.exceptions.AMQPConnectionError as exc:
                errors.append(f"{parameters.port}: {exc!r}")
        raise pika.exceptions.AMQPConnectionError("; ".join(errors))

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                connection = self._connect()
            except pika.exceptions.AMQPConnectionError as exc:
                self.error = f"no cluster node answers: {exc}"
                self._stop.wait(RECONNECT_S)
                continue
            if not first:
                self.reconnects += 1
            first = False
            try:
                channel = connection.channel()
                channel.basic_qos(prefetch_count=200)
                channel.basic_consume(self.queue, self._on_message)
                while not self._stop.is_set():
                    connection.process_data_events(time_limit=0.5)
                connection.close()
            except (pika.exceptions.AMQPError, OSError) as exc:  # its node stopped: the next one
                self.error = f"consumer connection lost: {exc!r}"
                self._stop.wait(RECONNECT_S)

    def _on_message(self, channel: pika.adapters.blocking_connection.BlockingChannel, method: pika.spec.Basic.Deliver,
                    properties: pika.spec.BasicProperties, body: bytes) -> None:
        now = time.time()
        topic = method.routing_key.replace(".", "/")
        with self.lock:
            self.deliveries += 1
            self.redelivered += bool(method.redelivered)
            self.payload_bytes += len(body)
            record = self.tracker.handle(topic, body, now)
            if record is not None and record.type == "event" and record.valid and record.note != "duplicate":
                self.last_event_at = time.monotonic()
                kind = str(record.payload["kind"])
                self.samples.setdefault(kind, (kind, body, dict(record.payload["body"])))
                if not record.payload["historical"]:
                    self.arrivals.append((record.store, unix_time(record.payload["ts"]), now))
        channel.basic_ack(method.delivery_tag)

    def duplicates(self) -> int:
        with self.lock:
            return sum(n.duplicates for n in self.tracker.nodes.values())

    def state(self, store: str, node: str) -> tuple[int, int | None, int | None, int, int]:
        """(distinct events, first seq, last seq, missing seqs, duplicates) of one node at the consumer."""
        with self.lock:
            found = self.tracker.nodes.get((store, node))
            if found is None:
                return 0, None, None, 0, 0
            return (found.events, found.first_seq, found.last_seq, len(found.missing) + found.missing_untracked,
                    found.duplicates)
