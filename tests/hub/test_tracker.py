"""HubTracker without a broker: gaps, duplicates, late Wills, invalid payloads, the node's validator."""

from __future__ import annotations

import json
from typing import Any

from edge.hub.tracker import HubTracker
from edge.mqtt import envelope
from tests.mqtt.test_contract import event


def feed(tracker: HubTracker, topic_tail: str, payload: Any) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return tracker.handle(f"shelf/s1/n1/{topic_tail}", raw)


def test_tracker_counts_gaps_duplicates_and_late_fill() -> None:
    tracker = HubTracker()
    first, second = event(1), event(2)
    assert feed(tracker, "events", first).note is None
    assert feed(tracker, "events", first).note == "duplicate"
    assert "gap: seq 2..3" in feed(tracker, "events", event(4)).note
    assert feed(tracker, "events", second).note == "late: fills a gap"
    node = tracker.nodes[("s1", "n1")]
    assert (node.events, node.duplicates, node.missing) == (3, 1, {3})
    assert tracker.violations() == 1


def test_tracker_ignores_late_will_from_old_session() -> None:
    tracker = HubTracker()
    feed(tracker, "status", envelope.status_payload("online", 5))
    record = feed(tracker, "status", envelope.status_payload("offline", 4))
    node = tracker.nodes[("s1", "n1")]
    assert "stale status" in record.note and node.state == "online" and node.late_wills == 1
    feed(tracker, "status", envelope.status_payload("offline", 5))
    assert node.state == "offline"


def test_tracker_flags_invalid_and_non_json_payloads() -> None:
    tracker = HubTracker()
    assert not feed(tracker, "events", b"\xff not json").valid
    record = feed(tracker, "stats", {"schema": {"name": "shelf-node/stats", "version": 1}})
    assert not record.valid and any("required" in p for p in record.problems)
    assert tracker.nodes[("s1", "n1")].invalid == 2
    assert feed(tracker, "cmd/tare", {}) is None
    assert tracker.handle("other/s1/n1/events", b"{}") is None
