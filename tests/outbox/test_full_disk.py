"""Issue 11 #1: a full disk loses no event silently. A real 2 MB tmpfs, real SQLite, a real mosquitto.

Refused events wait in memory and are stored, in order, when space frees; one that must be dropped
burns its seq (the hub sees the gap) and is counted as `lost` in stats and birth; the outbox says
it is unhealthy and why ("database or disk is full"), even though the file cannot store that.
"""

from __future__ import annotations

import time
from pathlib import Path

from edge.demo.publisher import weight_body
from edge.outbox import Outbox
from tests.mqtt.live import hub_watcher, live_node, records
from tests.plugins.broker import Broker
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def test_refused_events_wait_in_memory_and_are_stored_in_order_when_space_frees(small_disk: Path) -> None:
    box = Outbox(small_disk / "outbox.sqlite3")
    try:
        for i in range(3):
            assert box.submit("weight", weight_body(i, ["p1"]), float(i)) is not None
        ballast = fill(small_disk)
        held = [box.submit("weight", weight_body(i, ["p1"]), float(i)) for i in range(3, 8)]
        assert held == [None] * 5
        status = box.status()
        assert (status.held, status.lost, status.healthy) == (5, 0, False)
        assert status.last_error is not None and "database or disk is full" in status.last_error
        assert "cannot rollback" not in status.last_error
        ballast.unlink()
        assert wait_until(lambda: box.status().held == 0, timeout=10), box.status()
        rows = box.pending_after(0, 100)
        assert [r.seq for r in rows] == list(range(1, 9))
        assert [r.produced_at for r in rows] == [float(i) for i in range(8)]  # production order kept
        assert box.status().healthy and box.status().lost == 0
    finally:
        box.close()


def test_a_dropped_event_burns_its_seq_and_counts_as_lost(small_disk: Path) -> None:
    box = Outbox(small_disk / "outbox.sqlite3", max_held=2)
    try:
        box.submit("weight", weight_body(0, ["p1"]), 0.0)
        ballast = fill(small_disk)
        for i in range(1, 5):  # four refused, room for two in memory: the two oldest are lost
            assert box.submit("weight", weight_body(i, ["p1"]), float(i)) is None
        assert (box.status().held, box.status().lost) == (2, 2)
        ballast.unlink()
        assert wait_until(lambda: box.status().held == 0, timeout=10), box.status()
        rows = box.pending_after(0, 100)
        assert [(r.seq, r.produced_at) for r in rows] == [(1, 0.0), (4, 3.0), (5, 4.0)]  # seqs 2, 3 skipped
        assert (box.status().lost, box.status().last_seq) == (2, 5)
    finally:
        box.close()
    reopened = Outbox(small_disk / "outbox.sqlite3")
    try:
        assert reopened.status().lost == 2  # persisted with the burned seqs
    finally:
        reopened.close()


def test_the_hub_sees_the_gap_and_stats_and_birth_say_lost(small_disk: Path, broker: Broker) -> None:
    with hub_watcher(broker.port) as hub, live_node(small_disk, broker.port, outbox={"path": small_disk / "o.db"},
                                                    ) as node:
        node.outbox.submit("weight", weight_body(0, ["p1"]), time.time())
        assert hub.wait_for(lambda t: t.unique_events >= 1, timeout=10)
        ballast = fill(small_disk)
        node.outbox._holding.max_held = 1  # one held, so the older of two refused events is lost
        for i in (1, 2):
            node.outbox.submit("weight", weight_body(i, ["p1"]), time.time())
        assert wait_until(lambda: any(r.payload["outbox"]["lost"] == 1 and not r.payload["outbox"]["healthy"]
                                      for r in records(hub, "stats")), timeout=10)
        ballast.unlink()
        assert hub.wait_for(lambda t: t.unique_events >= 2, timeout=10), hub.tracker.summary()
        node.link.commands.dispatch("rebirth", b"{}")
        assert wait_until(lambda: any((r.payload or {}).get("outbox", {}).get("lost") == 1
                                      for r in records(hub, "birth")), timeout=10)
    (state,) = hub.tracker.nodes.values()
    assert (state.first_seq, state.last_seq, state.missing) == (1, 3, {2})  # the gap where the lost event was
    assert all(r.valid for r in hub.records), [r.problems for r in hub.records if not r.valid]


def test_a_body_that_is_not_json_is_lost_at_its_place_among_held_events(small_disk: Path) -> None:
    box = Outbox(small_disk / "outbox.sqlite3")
    try:
        box.submit("weight", weight_body(0, ["p1"]), 0.0)
        ballast = fill(small_disk)
        assert box.submit("weight", weight_body(1, ["p1"]), 1.0) is None
        assert box.submit("weight", {"bad": float("nan")}, 2.0) is None  # never storable
        assert box.submit("weight", weight_body(3, ["p1"]), 3.0) is None
        assert (box.status().held, box.status().lost) == (2, 1)
        ballast.unlink()
        assert wait_until(lambda: box.status().held == 0, timeout=10), box.status()
        assert [(r.seq, r.produced_at) for r in box.pending_after(0, 10)] == [(1, 0.0), (2, 1.0), (4, 3.0)]
        assert box.status().lost == 1 and box.status().healthy
    finally:
        box.close()
