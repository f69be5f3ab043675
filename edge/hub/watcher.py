"""HubWatcher: a persistent-session subscriber (QoS 1) feeding a HubTracker.

The broker queues events for it while it is briefly disconnected. The paho client comes from
the same `make_client` as the node's link, configured by an `[mqtt]` section (host, port,
topic_prefix, protocol, username/password reference, TLS, reconnect delays).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from edge.config.mqtt import MqttSection
from edge.hub.tracker import HubRecord, HubTracker
from edge.mqtt.connection import connect_kwargs, make_client

log = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "shelf-hub-watch"
# A watcher should be back soon after a broker restart; the node's own backoff is longer (a store of nodes).
HUB_RECONNECT_S = {"reconnect_min_s": 1.0, "reconnect_max_s": 4.0}


def hub_section(host: str = "127.0.0.1", port: int = 1883, **fields: Any) -> MqttSection:
    """An [mqtt] section for a watcher: the given fields, a short reconnect delay, defaults for the rest."""
    return MqttSection.model_validate({"host": host, "port": port, **HUB_RECONNECT_S, **fields})


class HubWatcher:
    """`run()` blocks until duration/count/stop; `start()`/`stop()` for callers with their own loop."""

    def __init__(self, section: MqttSection, store: str | None = None, client_id: str = DEFAULT_CLIENT_ID,
                 on_record: Callable[[HubRecord], None] | None = None, keep_records: bool = True) -> None:
        self.section = section
        self.filter = f"{section.topic_prefix}/{store or '+'}/+/#"
        self.tracker = HubTracker(section.topic_prefix)
        self.on_record = on_record
        self.keep_records = keep_records
        self.records: list[HubRecord] = []
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker's SUBACK granted the filter: from now on nothing is missed
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self.client = make_client(section, client_id, persistent_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_subscribe = self._on_subscribe

    @property
    def where(self) -> str:
        return f"{self.section.host}:{self.section.port}"

    def start(self) -> None:
        """Connect (retrying in the background if the broker is not up yet) and start the network thread."""
        self.client.connect_async(**connect_kwargs(self.section, persistent_session=True))
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()

    def wait_for(self, predicate: Callable[[HubTracker], bool], timeout: float) -> bool:
        """Block until predicate(tracker) is true or timeout; True if it became true."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.tracker):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return False
                self._changed.wait(min(remaining, 1.0))
        return True

    def run(self, duration: float | None = None, count: int | None = None) -> None:
        self.start()
        try:
            self.wait_for(lambda t: count is not None and t.unique_events >= count,
                          timeout=duration if duration is not None else float("inf"))
        finally:
            self.stop()

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            log.error("hub watch: broker %s refused the connection: %s", self.where, reason_code)
            return
        client.subscribe(self.filter, qos=1)
        self.connected.set()

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: list[ReasonCode],
                      properties: Any) -> None:
        if all(not code.is_failure for code in reason_codes):
            self.subscribed.set()
        else:
            log.error("hub watch: broker %s refused the subscription to %s: %s", self.where, self.filter,
                      ", ".join(str(code) for code in reason_codes))

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        log.warning("hub watch: cannot reach broker %s; retrying", self.where)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._changed:
            record = self.tracker.handle(message.topic, bytes(message.payload))
            if record is None:
                return
            if self.keep_records:
                self.records.append(record)
            self._changed.notify_all()
        if self.on_record is not None:
            self.on_record(record)
