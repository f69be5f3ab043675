"""What the link publishes besides events: `online` status on a health change, birth, stats and live weights.

A mixin of MqttLink, run on its network thread (except `publish_weights`, which only queues). It logs as
`edge.mqtt.link`, the logger technicians and tests already follow for the link.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from edge import __version__
from edge.config.mqtt import MqttSection
from edge.config.root import NodeConfig
from edge.mqtt import envelope
from edge.mqtt.host_stats import HostStats
from edge.mqtt.inbound import Inbound
from edge.mqtt.link_status import LinkStatus
from edge.mqtt.topics import Topics
from edge.mqtt.validation import problems
from edge.outbox.store import Outbox

log = logging.getLogger("edge.mqtt.link")

HEALTH_EVERY_S = 1.0  # how often the link asks the node's health for a change worth a new status


def _health_key(health: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The state and the parts its reasons name ('outbox: 3 event(s) held ...' -> 'outbox')."""
    reasons = health.get("reasons") or []
    return str(health.get("state")), tuple(sorted({re.split("[:,]", str(r), maxsplit=1)[0] for r in reasons}))


class LinkPublishing:
    """The attributes below are set by MqttLink.__init__; `status()` is MqttLink's."""

    config: NodeConfig
    section: MqttSection
    outbox: Outbox
    topics: Topics
    client: paho.Client
    inbound: Inbound
    counters: dict[str, int]
    _session: int
    _stats_source: Callable[[], dict[str, Any]]
    _birth_source: Callable[[], dict[str, Any]]
    _health_source: Callable[[], dict[str, Any]] | None
    _health_key: tuple[str, tuple[str, ...]] | None
    _host: HostStats
    _started: float
    _lock: threading.Lock
    _weights_pending: dict[str, float | None] | None
    _weights_last: dict[str, float | None] | None
    _weights_sent_at: float

    def status(self) -> LinkStatus:
        raise NotImplementedError

    def publish_weights(self, plates: dict[str, float | None]) -> bool:
        """Queue live plate weights (QoS 0); sent only when changed and at most every weights_min_interval_s."""
        if not self.section.weights_enabled:
            return False
        rounded = {name: None if grams is None or not math.isfinite(grams) else round(grams, 1)
                   for name, grams in plates.items()}
        with self._lock:
            if rounded == self._weights_last or rounded == self._weights_pending:
                return False
            self._weights_pending = rounded
        return True

    def stats_payload(self) -> dict[str, Any]:
        try:
            parts = self._stats_source()
        except Exception:  # a broken part must not stop stats: log with traceback, count
            self.counters["internal_errors"] += 1
            log.exception("stats callback failed; publishing stats without parts")
            parts = {}
        body = {"uptime_s": round(time.monotonic() - self._started, 3), "outbox": self.outbox.status().to_json(),
                "mqtt": self.status().to_json(), "host": self._host.sample().to_json(), "parts": parts}
        health = self._health()
        if health is not None:
            body["health"] = health
        return envelope.stamp("stats", body, max(self._session, 1))

    def _health(self) -> dict[str, Any] | None:
        if self._health_source is None:
            return None
        try:
            return self._health_source()
        except Exception:  # a broken verdict must not stop status or stats: log with traceback, count
            self.counters["internal_errors"] += 1
            log.exception("health callback failed; publishing without health")
            return None

    def _send_weights(self, now: float) -> None:
        with self._lock:
            pending = self._weights_pending
            if pending is None or now - self._weights_sent_at < self.section.weights_min_interval_s:
                return
            self._weights_pending, self._weights_last, self._weights_sent_at = None, pending, now
        body = {"schema": envelope.schema_tag("weights"), "session": self._session,
                "ts": envelope.iso_ms(time.time()), "plates": pending}
        self.client.publish(self.topics.weights, envelope.encode(body), qos=0)
        self.counters["weights_published"] += 1

    def _publish_health_change(self) -> None:
        """A new `online` status (retained) when the health state or the parts named in its reasons change, so
        the hub sees `degraded` and its end without waiting for stats; a count changing inside a reason does
        not republish."""
        health = self._health()
        if health is not None and _health_key(health) != self._health_key:
            self._publish_online(health)

    def _publish_online(self, health: dict[str, Any] | None) -> None:
        payload = envelope.status_payload("online", self._session)
        if health is not None:
            payload["health"] = health
            self._health_key = _health_key(health)
        self.client.publish(self.topics.status, envelope.encode(payload), qos=1, retain=True)

    def _announce(self) -> None:
        self._publish_online(self._health())
        birth = envelope.stamp("birth", self._birth_source(), self._session)
        outbox = self.outbox.status()
        birth.setdefault("outbox", {"lost": outbox.lost, "dropped": outbox.dropped, "healthy": outbox.healthy})
        if self.inbound.current is not None:
            birth.setdefault("planogram", {"id": self.inbound.current.id, "version": self.inbound.current.version})
        wrong = problems("birth", birth)
        if wrong:
            self.counters["birth_invalid"] += 1
            log.error("birth does not match its schema (published anyway): %s", "; ".join(wrong))
        self.client.publish(self.topics.birth, envelope.encode(birth), qos=1, retain=True)

    def _default_birth(self) -> dict[str, Any]:
        from edge.config.loader import config_digest

        return {"software_version": __version__, "config_digest": config_digest(self.config), "model": None,
                "plates": [{"name": p.name, "channels": list(p.channels)} for p in self.config.plates],
                "calibration": None}
