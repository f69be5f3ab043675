"""[outbox]: the durable SQLite queue in front of MQTT. (Owner: MQTT.)"""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Section


class OutboxSection(Section):
    max_events: int | None = Field(default=None, gt=0, description="None = keep all the disk allows.")
