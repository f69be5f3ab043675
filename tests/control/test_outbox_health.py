"""The outbox's part of the health verdict on a real outbox on a real full 2 MB tmpfs: held events degrade the node
while they wait, a lost one degrades it for a while after the loss, with the outbox's own cause."""

from __future__ import annotations

from pathlib import Path

from edge.control.health import OutboxHealth
from edge.outbox import Outbox
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def test_held_then_lost_events_name_the_full_disk_and_end_when_space_frees(small_disk: Path) -> None:
    outbox = Outbox(small_disk / "outbox.sqlite3", max_held=1)
    verdict = OutboxHealth(lost_degrades_s=600.0)
    try:
        assert outbox.submit("weight", {"n": 1}, produced_at=1.0) is not None
        assert verdict.reasons(0.0, outbox.status()) == ()
        ballast = fill(small_disk)
        outbox.submit("weight", {"n": 2}, produced_at=2.0)
        held = verdict.reasons(1.0, outbox.status())
        assert len(held) == 1 and "1 event(s) held in memory" in held[0] and "full" in held[0], held
        outbox.submit("weight", {"n": 3}, produced_at=3.0)  # only one may wait: the oldest held one is lost
        assert outbox.status().lost == 1, outbox.status()
        lost = verdict.reasons(2.0, outbox.status())
        assert any("an event was lost (1 in all" in r and "full" in r for r in lost), lost

        ballast.unlink()
        assert wait_until(lambda: outbox.status().held == 0 and outbox.status().healthy, 10), outbox.status()
        after = verdict.reasons(3.0, outbox.status())
        assert len(after) == 1 and after[0].startswith("outbox: an event was lost"), after  # still said
        assert verdict.reasons(603.0, outbox.status()) == ()  # the loss is old news after lost_degrades_s
    finally:
        outbox.close()
