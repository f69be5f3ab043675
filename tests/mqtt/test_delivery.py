"""Delivery bookkeeping over a real outbox file: window, order, replay rate, acks, refusals."""

from __future__ import annotations

from pathlib import Path

from edge.mqtt.delivery import Delivery
from edge.outbox import Outbox


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def filled(tmp_path: Path, count: int, produced_at: float = 100.0) -> Outbox:
    box = Outbox(tmp_path / "o.sqlite3")
    for i in range(count):
        box.append("weight", {"i": i}, produced_at + i)
    return box


def test_window_bounds_inflight_and_order_is_kept(tmp_path: Path) -> None:
    clock = Clock()
    delivery = Delivery(filled(tmp_path, 10), window=4, replay_rate=1000, clock=clock)
    due = delivery.due(connected_at_wall=0.0)  # produced after the connection: live, not historical
    assert [(row.seq, hist) for row, hist in due] == [(1, False), (2, False), (3, False), (4, False)]
    for mid, (row, _) in enumerate(due, start=100):
        delivery.handed_out(row, mid)
    assert delivery.due(0.0) == []  # window full
    assert delivery.acknowledged(101) == 2
    assert [row.seq for row, _ in delivery.due(0.0)] == [5]  # never re-hands out 1..4
    assert delivery.flush(force=True) == 1
    assert [r.seq for r in delivery.outbox.pending_after(0, 20)] == [1, 3, 4, 5, 6, 7, 8, 9, 10]


def test_backlog_is_rate_limited_and_flagged_historical(tmp_path: Path) -> None:
    clock = Clock()
    delivery = Delivery(filled(tmp_path, 50), window=8, replay_rate=10, clock=clock)
    connected_at = 1e12  # everything was produced before this connection: a backlog
    first = delivery.due(connected_at)
    assert [row.seq for row, _ in first] == list(range(1, 9)) and all(hist for _, hist in first)
    for mid, (row, _) in enumerate(first, start=1):
        delivery.handed_out(row, mid)
        delivery.acknowledged(mid)
    assert delivery.due(connected_at) == []  # burst used up: the window is free but the rate is not
    clock.now = 0.5
    assert [row.seq for row, _ in delivery.due(connected_at)] == [9, 10, 11, 12, 13]  # 10/s for 0.5 s


def test_refused_rows_are_kept_as_rejected(tmp_path: Path) -> None:
    delivery = Delivery(filled(tmp_path, 3), window=8, replay_rate=100)
    for mid, (row, _) in enumerate(delivery.due(0.0), start=1):
        delivery.handed_out(row, mid)
    assert delivery.refused(2, "Not authorized") == 2
    assert delivery.acknowledged(1) == 1 and delivery.acknowledged(3) == 3
    delivery.flush(force=True)
    status = delivery.outbox.status()
    assert (status.depth, status.rejected_kept, delivery.rejected, delivery.acked) == (0, 1, 1, 2)
    assert delivery.acknowledged(999) is None  # not an event mid (status, resp)
