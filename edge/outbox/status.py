"""OutboxStatus: the outbox's current counters, read by the link (stats, birth) and `shelf-node outbox status`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    path: str
    depth: int  # pending rows in the file
    oldest_seq: int | None
    oldest_age_s: float | None
    last_seq: int  # the highest seq handed out, burned ones included
    session: int
    dropped: int  # oldest rows removed by the drop_oldest / max_age_s policy
    rejected: int  # rows the broker refused (kept, exportable)
    rejected_kept: int
    lost: int  # events that could not be stored at all (their seqs are skipped, so the hub sees the gap)
    held: int  # events refused by the file (disk full, max_events) waiting in memory for a retry
    healthy: bool  # false while the file refuses writes, events are held, or a loss is not yet recorded
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
