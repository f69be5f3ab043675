"""What the control socket's `status` answers: one record the node composes from its parts' own status
records (each with `to_json()`), plus the verdict on its health. The JSON is documented in
docs/control-socket.md and rendered by `shelf-node status`."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from edge.control.protocol import as_json
from edge.errors import CommandError


class Record(Protocol):
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Health:
    """`state` is running, booting, degraded or fault; `reasons` say why it is not running."""

    state: str
    reasons: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state == "running"

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "healthy": self.healthy, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class NodeReport:
    node: str  # "<store_id>/<node_id>"
    software_version: str
    uptime_s: float
    health: Health
    parts: Record  # NodeStatus: stats.parts (node pipeline, serial, weighing, vision)
    mqtt: Record | None = None  # LinkStatus
    outbox: Record | None = None  # OutboxStatus
    host: Record | None = None  # HostSample: cpu_percent, rss_bytes, temperature_c
    planogram: dict[str, Any] | None = None  # id and version, None before one is known
    gpio: Record | None = None  # GpioStatus: the LED state and the button's counters
    maintenance: bool = False
    recent_events: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "software_version": self.software_version, "uptime_s": round(self.uptime_s, 1),
                "health": self.health.to_json(), "healthy": self.health.healthy, "parts": as_json(self.parts),
                "mqtt": as_json(self.mqtt), "outbox": as_json(self.outbox), "host": as_json(self.host),
                "planogram": as_json(self.planogram), "gpio": as_json(self.gpio), "maintenance": self.maintenance,
                "recent_events": as_json(list(self.recent_events))}


class RecentEvents:
    """The last events the node produced (weight and item bodies, with their kind), for `events tail`:
    the outbox forgets an event once the hub acknowledged it. Thread-safe; bounded."""

    def __init__(self, keep: int = 200) -> None:
        self._events: collections.deque[dict[str, Any]] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._count = 0

    def add(self, kind: str, body: dict[str, Any], seq: int | None = None) -> None:
        with self._lock:
            self._count += 1
            self._events.append({"n": self._count, "kind": kind, "seq": seq, **body})

    def tail(self, n: int = 10, after: int = 0) -> list[dict[str, Any]]:
        """The last `n` events, oldest first; only those numbered above `after` (for --follow)."""
        with self._lock:
            events = [e for e in self._events if e["n"] > after]
        return events[-n:] if n > 0 else []

    def handler(self, args: dict[str, Any]) -> dict[str, Any]:
        """The control socket's `events` command: {"n": 10, "after": 0}."""
        n, after = args.get("n", 10), args.get("after", 0)
        for name, value in (("n", n), ("after", after)):
            if type(value) is not int or value < 0:
                raise CommandError(f"args.{name} must be a whole number >= 0, got {value!r}")
        return {"events": self.tail(min(n, 1000), after)}
