"""The SQLite outbox on real files: order, persistence across reopen, bounds, rejected rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge.config.outbox import OutboxSection
from edge.errors import OutboxError
from edge.outbox import Outbox
from tests.plugins.waiting import wait_until


def body(i: int) -> dict[str, object]:
    return {"delta_g": -float(i), "plates": ["p1"]}


def test_append_assigns_increasing_seq_and_stable_ids(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    infos = [box.append("weight", body(i), produced_at=1000.0 + i) for i in range(5)]
    assert [i.seq for i in infos] == [1, 2, 3, 4, 5]
    assert len({i.event_id for i in infos}) == 5
    rows = box.pending_after(0, 10)
    assert [(r.seq, r.event_id, r.body) for r in rows] == [(i.seq, i.event_id, body(n)) for n, i in enumerate(infos)]
    assert [r.seq for r in box.pending_after(2, 2)] == [3, 4]


def test_seq_never_reused_after_delivery_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    for i in range(3):
        box.append("weight", body(i), produced_at=float(i))
    assert box.mark_delivered([1, 2, 3]) == 3
    assert box.depth == 0
    box.close()
    reopened = Outbox(path)
    assert reopened.append("weight", body(9), produced_at=9.0).seq == 4
    assert reopened.status().last_seq == 4


def test_pending_rows_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    ids = [box.append("weight", body(i), produced_at=float(i)).event_id for i in range(4)]
    box.mark_delivered([1])
    box.close()
    reopened = Outbox(path)
    assert reopened.depth == 3
    assert [r.event_id for r in reopened.pending_after(0, 10)] == ids[1:]


def test_file_is_wal_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    box.append("weight", body(1), 1.0)
    # another connection (a technician's CLI) sees the committed row at once
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1


def test_full_outbox_refuses_with_clear_error_by_default(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", OutboxSection(max_events=3))
    for i in range(3):
        box.append("weight", body(i), float(i))
    with pytest.raises(OutboxError, match=r"max_events=3.*drop_oldest"):
        box.append("weight", body(3), 3.0)
    assert box.depth == 3
    assert [r.seq for r in box.pending_after(0, 10)] == [1, 2, 3]
    assert box.mark_delivered([1]) == 1  # once something is delivered there is room again
    assert box.append("weight", body(3), 3.0).seq == 4


def test_an_event_beyond_max_events_waits_in_memory_until_delivery_makes_room(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", OutboxSection(max_events=2))
    try:
        assert [box.submit("weight", body(i), float(i)) is not None for i in range(3)] == [True, True, False]
        assert (box.status().held, box.status().healthy, box.status().lost) == (1, False, 0)
        box.mark_delivered([1])
        assert wait_until(lambda: box.status().held == 0, timeout=10)
        assert [r.seq for r in box.pending_after(0, 10)] == [2, 3] and box.status().healthy
    finally:
        box.close()


def test_drop_oldest_drops_and_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(tmp_path / "o.sqlite3", OutboxSection(max_events=3, drop_oldest=True))
    for i in range(5):
        box.append("weight", body(i), float(i))
    assert [r.seq for r in box.pending_after(0, 10)] == [3, 4, 5]
    assert box.status().dropped == 2
    assert "dropped 1 oldest undelivered" in caplog.text


def test_age_bound_drops_only_with_drop_oldest(tmp_path: Path) -> None:
    now = [10_000.0]
    keep = Outbox(tmp_path / "keep.sqlite3", OutboxSection(max_age_s=60), clock=lambda: now[0])
    drop = Outbox(tmp_path / "drop.sqlite3", OutboxSection(max_age_s=60, drop_oldest=True), clock=lambda: now[0])
    for box in (keep, drop):
        box.append("weight", body(1), produced_at=now[0] - 120)
        box.append("weight", body(2), produced_at=now[0] - 10)
        box.append("weight", body(3), produced_at=now[0])
    assert keep.depth == 3 and keep.status().oldest_age_s == 120
    assert [r.seq for r in drop.pending_after(0, 10)] == [2, 3]
    assert drop.status().dropped == 1


def test_rejected_rows_are_kept_not_delivered(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    for i in range(3):
        box.append("weight", body(i), float(i))
    box.mark_rejected(2, "Not authorized")
    assert [r.seq for r in box.pending_after(0, 10)] == [1, 3]
    rows = list(box.iter_rows())
    assert [(r.seq, r.state) for r in rows] == [(1, "pending"), (2, "rejected"), (3, "pending")]
    status = box.status()
    assert status.rejected == 1 and status.rejected_kept == 1 and status.depth == 2
    assert "seq 2 rejected by broker: Not authorized" in status.last_error


def test_unserialisable_body_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    with pytest.raises(OutboxError, match="not JSON-serialisable"):
        box.append("weight", {"x": float("nan")}, 1.0)
    with pytest.raises(OutboxError, match="not JSON-serialisable"):
        box.append("weight", {"x": object()}, 1.0)
    assert box.depth == 0 and box.append("weight", body(1), 1.0).seq == 1


def test_session_counter_persists(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    assert [box.next_session(), box.next_session()] == [1, 2]
    box.close()
    assert Outbox(path).next_session() == 3


def test_unopenable_path_names_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutboxError, match=r"cannot open.*\[outbox\] path"):
        Outbox(blocker / "sub" / "o.sqlite3")


def test_listeners_are_told_after_each_stored_event_only(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", OutboxSection(max_events=2))
    told: list[int] = []
    box.add_listener(lambda: told.append(box.depth))
    box.append("weight", body(1), produced_at=1.0)
    assert box.submit("weight", body(2), produced_at=2.0) is not None
    assert told == [1, 2]  # after the commit: the row is there when the listener looks
    with pytest.raises(OutboxError):
        box.append("weight", body(3), produced_at=3.0)  # full: refused, nobody told
    assert told == [1, 2]
