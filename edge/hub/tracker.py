"""Hub side of the contract: validate every payload, track each node's session and seq.

`HubTracker` is pure (topic + payload in, `HubRecord` out) so it is tested without a broker;
`edge.hub.watcher.HubWatcher` feeds it from a real subscription.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from edge.mqtt.topics import split_node_topic
from edge.mqtt.validation import parse_json, planogram_problems, problems

log = logging.getLogger(__name__)

SEEN_IDS_PER_NODE = 200_000
# A gap wider than this is counted, not tracked seq by seq: one event with seq 10**12 must not fill memory.
MAX_TRACKED_GAP = 100_000
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
    missing_untracked: int = 0  # seqs in gaps wider than MAX_TRACKED_GAP
    plates: list[str] | None = None  # from the node's birth; a planogram is checked against them
    health: dict[str, Any] | None = None  # the node's verdict from its latest status or stats
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
                "last_seq": self.last_seq, "missing": sorted(self.missing)[:1000],
                "missing_count": len(self.missing) + self.missing_untracked, "health": self.health}


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
            record.payload = parse_json(payload)
        except ValueError as exc:
            record.valid, record.problems = False, [f"not JSON: {exc}"]
        else:
            # the planogram by the node's own parser, with the plates that node's birth announced
            record.problems = (planogram_problems(payload, state.plates) if kind == "planogram"
                               else problems(kind, record.payload))
            record.valid = not record.problems
        if not record.valid:
            state.invalid += 1
            return record
        if kind == "event":
            self._track_event(state, record)
        elif kind == "status":
            self._track_status(state, record)
        elif kind == "stats" and "health" in record.payload:
            state.health = record.payload["health"]
        elif kind == "birth":
            state.plates = [str(plate["name"]) for plate in record.payload["plates"]]
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
            gap = seq - state.last_seq - 1
            if gap > MAX_TRACKED_GAP:
                state.missing_untracked += gap
                record.note = (f"gap: seq {state.last_seq + 1}..{seq - 1} not received ({gap} seqs: too many to "
                               f"track one by one; late ones will not fill it)")
            elif gap > 0:
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
        state.health = record.payload.get("health")  # none with offline or stopped: no verdict then

    def summary(self) -> dict[str, Any]:
        return {"unique_events": self.unique_events, "nodes": [n.summary() for n in self.nodes.values()]}

    def violations(self) -> int:
        return sum(n.invalid + len(n.missing) + n.missing_untracked for n in self.nodes.values())
