"""The store hub's side of the fleet benchmark: the reference subscriber (edge.hub.HubWatcher, persistent
session, every payload validated, sessions and seqs tracked) plus the times the benchmark needs, and the
broker's own counters from its `$SYS` topics.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.hub.tracker import HubRecord, NodeState
from edge.hub.watcher import HubWatcher, hub_section

SYS_TOPICS = ("$SYS/broker/publish/messages/received", "$SYS/broker/publish/messages/sent",
              "$SYS/broker/clients/connected")


class HubView:
    """A HubWatcher on a broker, remembering when each node came online and when backlog events arrived."""

    def __init__(self, port: int, client_id: str = "fleet-hub", store: str | None = None) -> None:
        self.watcher = HubWatcher(hub_section(port=port), store=store, client_id=client_id,
                                  on_record=self._on_record, keep_records=False)
        self._lock = threading.Lock()
        self.online_at: dict[tuple[str, str], list[tuple[float, int]]] = {}  # (monotonic, session)
        self.online_unix: dict[tuple[str, str], list[float]] = {}  # the same receipts, unix time
        self.item_starts: dict[tuple[str, str], list[float]] = {}  # t_start_unix of each new item event
        self.historical_at: list[float] = []  # monotonic receipt time of each new historical event
        self.kinds: Counter[str] = Counter()
        self.messages = 0
        self.latency_s: list[float] = []  # receipt minus the event's ts, events that were not backlog
        self.arrivals: list[tuple[float, float]] = []  # (ts, receipt) in unix seconds of the same events

    def start(self) -> HubView:
        self.watcher.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()

    def _on_record(self, record: HubRecord) -> None:
        now = time.monotonic()
        with self._lock:
            self.messages += 1
            if not record.valid:
                return
            key = (record.store, record.node)
            if record.type == "status" and record.payload and record.payload.get("state") == "online":
                self.online_at.setdefault(key, []).append((now, int(record.payload["session"])))
                self.online_unix.setdefault(key, []).append(record.received_at)
            elif record.type == "event" and record.note != "duplicate":
                self.kinds[str(record.payload["kind"])] += 1
                if record.payload["kind"] == "item":
                    self.item_starts.setdefault(key, []).append(float(record.payload["body"]["t_start_unix"]))
                if record.payload["historical"]:
                    self.historical_at.append(now)
                else:
                    ts = unix_time(record.payload["ts"])
                    self.latency_s.append(record.received_at - ts)
                    self.arrivals.append((ts, record.received_at))

    def node(self, store: str, name: str) -> NodeState | None:
        return self.watcher.tracker.nodes.get((store, name))

    def online_since(self, keys: list[tuple[str, str]], since: float) -> float | None:
        """When the last of `keys` published `online` after `since` (monotonic), or None if one has not yet."""
        with self._lock:
            latest = 0.0
            for key in keys:
                times = [at for at, _ in self.online_at.get(key, []) if at >= since]
                if not times:
                    return None
                latest = max(latest, times[0])
            return latest

    def historical_between(self, start: float, end: float) -> list[float]:
        with self._lock:
            return [at for at in self.historical_at if start <= at <= end]

    def wait(self, condition: Any, timeout: float, step: float = 0.2) -> bool:
        return wait_for(condition, timeout, step)


def wait_for(condition: Any, timeout: float, step: float = 0.2) -> bool:
    """Poll `condition` every `step` s until it holds (True) or `timeout` s passed (its last answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def unix_time(iso: str) -> float:
    """An envelope's `ts` (ISO 8601 UTC with Z) as unix seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


class BrokerCounters:
    """The broker's `$SYS` counters (mosquitto `sys_interval 1`), or any retained topics (a bridge's
    `$SYS/broker/connection/<name>/state`), kept up to date across its restarts."""

    def __init__(self, port: int, topics: tuple[str, ...] = SYS_TOPICS) -> None:
        self.port = port
        self.topics = topics
        self.values: dict[str, float] = {}
        self._lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sys-{port}", clean_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)

    def start(self) -> BrokerCounters:
        self.client.connect_async("127.0.0.1", self.port)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        for topic in self.topics:
            client.subscribe(topic, qos=0)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            value = float(message.payload.decode())
        except ValueError:
            return
        with self._lock:
            self.values[message.topic.rsplit("/broker/", 1)[1]] = value

    def snapshot(self) -> tuple[float, dict[str, float]]:
        with self._lock:
            return time.monotonic(), dict(self.values)
