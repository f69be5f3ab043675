"""Hub side of the contract: validate every payload, track each node's session and seq.

`HubTracker` is pure (topic + payload in, `HubRecord` out) so it is tested without a broker;
`HubWatcher` wraps it in a paho subscriber with a persistent session (clean_session=False, QoS 1),
so events published while it is briefly disconnected are queued for it by the broker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from edge.mqtt.topics import split_node_topic
from edge.mqtt.validation import problems

log = logging.getLogger(__name__)

SEEN_IDS_PER_NODE = 200_000
# last topic level(s) -> schema name; resp/<name> is handled separately
TOPIC_SCHEMAS = {"status": "status", "birth": "birth", "events": "event", "stats": "stats", "weights": "weights",
                 "planogram": "planogram"}


@dataclass
class HubRecord:
    """One received message as the hub understood it."""

    received_at: float
    topic: str
    store: str
    node: str
    type: str
    valid: bool
    problems: list[str]
    note: str | None
    payload: Any

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NodeState:
    store: str
    node: str
    state: str | None = None
    session: int = 0
    events: int = 0
    duplicates: int = 0
    historical: int = 0
    invalid: int = 0
    late_wills: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    missing: set[int] = field(default_factory=set)
    _seen: set[str] = field(default_factory=set, repr=False)
    _seen_order: deque[str] = field(default_factory=deque, repr=False)

    def remember(self, event_id: str) -> bool:
        """True if event_id is new (bounded memory: the oldest ids are forgotten first)."""
        if event_id in self._seen:
            return False
        self._seen.add(event_id)
        self._seen_order.append(event_id)
        if len(self._seen_order) > SEEN_IDS_PER_NODE:
            self._seen.discard(self._seen_order.popleft())
        return True

    def summary(self) -> dict[str, Any]:
        return {"store": self.store, "node": self.node, "state": self.state, "session": self.session,
                "events": self.events, "duplicates": self.duplicates, "historical": self.historical,
                "invalid": self.invalid, "late_wills": self.late_wills, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "missing": sorted(self.missing)[:1000], "missing_count": len(self.missing)}


class HubTracker:
    def __init__(self, prefix: str = "shelf") -> None:
        self.prefix = prefix
        self.nodes: dict[tuple[str, str], NodeState] = {}
        self.unique_events = 0

    def handle(self, topic: str, payload: bytes, now: float | None = None) -> HubRecord | None:
        parts = split_node_topic(topic)
        if parts is None or parts[0] != self.prefix:
            return None
        _, store, node, rest = parts
        kind = "resp" if rest.startswith("resp/") else "cmd" if rest.startswith("cmd/") else TOPIC_SCHEMAS.get(rest)
        if kind is None or kind == "cmd":
            return None  # requests to nodes, or topics outside the contract
        state = self.nodes.setdefault((store, node), NodeState(store, node))
        record = HubRecord(now or time.time(), topic, store, node, kind, True, [], None, None)
        if not payload:
            record.note = "retained message cleared"
            return record
        try:
            record.payload = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            record.valid, record.problems = False, [f"not JSON: {exc}"]
        else:
            record.problems = problems(kind, record.payload)
            record.valid = not record.problems
        if not record.valid:
            state.invalid += 1
            return record
        if kind == "event":
            self._track_event(state, record)
        elif kind == "status":
            self._track_status(state, record)
        return record

    def _track_event(self, state: NodeState, record: HubRecord) -> None:
        event = record.payload
        seq = int(event["seq"])
        if not state.remember(event["event_id"]):
            state.duplicates += 1
            record.note = "duplicate"
            return
        state.events += 1
        self.unique_events += 1
        if event["historical"]:
            state.historical += 1
        if state.last_seq is None:
            state.first_seq = state.last_seq = seq
        elif seq > state.last_seq:
            if seq > state.last_seq + 1:
                state.missing.update(range(state.last_seq + 1, seq))
                record.note = f"gap: seq {state.last_seq + 1}..{seq - 1} not received (yet)"
            state.last_seq = seq
        elif seq in state.missing:
            state.missing.discard(seq)
            record.note = "late: fills a gap"
        else:
            record.note = f"out of order: seq {seq} after {state.last_seq} with a new event_id"

    def _track_status(self, state: NodeState, record: HubRecord) -> None:
        session = int(record.payload["session"])
        if session < state.session:
            state.late_wills += record.payload["state"] == "offline"
            record.note = f"stale status from session {session} (current {state.session}) ignored"
            return
        state.session, state.state = session, record.payload["state"]

    def summary(self) -> dict[str, Any]:
        return {"unique_events": self.unique_events, "nodes": [n.summary() for n in self.nodes.values()]}

    def violations(self) -> int:
        return sum(n.invalid + len(n.missing) for n in self.nodes.values())


class HubWatcher:
    """A persistent-session subscriber feeding a HubTracker. `run()` blocks until duration/count/stop."""

    def __init__(self, host: str, port: int, prefix: str = "shelf", store: str | None = None,
                 client_id: str = "shelf-hub-watch", on_record: Callable[[HubRecord], None] | None = None,
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None, keep_records: bool = True) -> None:
        self.host, self.port = host, port
        self.filter = f"{prefix}/{store or '+'}/+/#"
        self.tracker = HubTracker(prefix)
        self.on_record = on_record
        self.keep_records = keep_records
        self.records: list[HubRecord] = []
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca_file is not None:
            self.client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file)
        self.client.reconnect_delay_set(1, 4)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_connect_fail = self._on_connect_fail

    def start(self) -> None:
        """Connect (retrying in the background if the broker is not up yet) and start the network thread."""
        self.client.connect_async(self.host, self.port, keepalive=10)
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
            log.error("hub watch: broker %s:%d refused the connection: %s", self.host, self.port, reason_code)
            return
        client.subscribe(self.filter, qos=1)
        self.connected.set()

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        log.warning("hub watch: cannot reach broker %s:%d; retrying", self.host, self.port)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        self.connected.clear()

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
