"""LinkStatus: the MQTT link's current counters (stats.mqtt on the wire; the node reads `connected`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinkStatus:
    connected: bool
    session: int
    reconnects: int
    connect_failures: int
    takeovers: int  # another client with our client_id took the connection over
    published: int
    acked: int
    rejected: int
    inflight: int
    commands: int
    command_errors: int
    planogram_errors: int
    internal_errors: int
    birth_invalid: int
    stats_published: int
    weights_published: int
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
