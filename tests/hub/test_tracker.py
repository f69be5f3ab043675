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
    # a retained planogram nested 50000 deep killed hub watch's network thread (RecursionError)
    assert not feed(tracker, "planogram", b"[" * 50_000 + b"]" * 50_000).valid
    assert feed(tracker, "cmd/tare", {}) is None
    assert tracker.handle("other/s1/n1/events", b"{}") is None


PLANOGRAM = {"id": "pg", "version": 1, "plates": {"p1": [
    {"sku": "COLA", "name": "Cola", "unit_weight_g": 350.0, "weight_tolerance_g": 8.0}]}}


def test_the_hub_refuses_what_the_node_refuses() -> None:
    """Issue 11 #17: one validator: NaN, 1e999, and what only the node's parser refuses, are invalid."""
    tracker = HubTracker()
    assert feed(tracker, "planogram", PLANOGRAM).valid  # format 1: the node converts it, so the hub accepts it
    nan = json.dumps(PLANOGRAM).replace("350.0", "NaN").encode()
    huge = json.dumps(PLANOGRAM).replace("350.0", "1e999").encode()
    twice = {**PLANOGRAM, "plates": {"p1": PLANOGRAM["plates"]["p1"] * 2}}
    for payload in (nan, huge, twice):
        assert not feed(tracker, "planogram", payload).valid, payload
    assert "NaN" in feed(tracker, "planogram", nan).problems[0]
    stats_with_nan = json.dumps(envelope.stamp("stats", {"uptime_s": 1.0}, 1)).replace("1.0", "NaN").encode()
    assert not feed(tracker, "stats", stats_with_nan).valid


def test_a_planogram_is_checked_against_the_plates_the_node_announced() -> None:
    tracker = HubTracker()
    birth = envelope.stamp("birth", {"software_version": "1", "config_digest": "0" * 64, "model": None,
                                     "plates": [{"name": "p2", "channels": [0]}], "calibration": None}, 1)
    assert feed(tracker, "birth", birth).valid
    wrong_plate = feed(tracker, "planogram", PLANOGRAM)
    assert not wrong_plate.valid and any("p1" in p and "do not exist" in p for p in wrong_plate.problems)


def test_a_huge_seq_jump_is_counted_not_tracked_one_by_one() -> None:
    """An absurd seq (a hostile or broken node) must not make the hub allocate a set of 10**12 seqs."""
    tracker = HubTracker()
    feed(tracker, "events", event(1))
    absurd = {**event(2), "seq": 10**12}
    record = feed(tracker, "events", absurd)
    node = tracker.nodes[("s1", "n1")]
    assert "too many to track" in record.note and node.missing == set()
    assert node.summary()["missing_count"] == 10**12 - 2 and tracker.violations() == 10**12 - 2
