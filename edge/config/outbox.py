"""[outbox]: the durable SQLite queue in front of MQTT. (Owner: MQTT.)"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.config.base import Section


class OutboxSection(Section):
    path: Path | None = Field(default=None, description="SQLite file; unset: <node.state_dir>/outbox.sqlite3.")
    max_events: int | None = Field(default=None, gt=0, description="Unset: keep all the disk allows.")
    max_age_s: float | None = Field(
        default=None, gt=0, description="Events older than this are dropped, only when drop_oldest = true."
    )
    drop_oldest: bool = Field(
        default=False,
        description="At a bound, drop the oldest events (counted, logged). false: refuse new events instead.",
    )
