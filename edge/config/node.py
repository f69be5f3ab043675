"""[node]: who this node is and where it keeps its state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.config.base import Section, worded_pattern

# Safe in MQTT topics, file names and systemd unit instance names.
IDENTIFIER = worded_pattern(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    "1-64 characters: letters, digits, '_', '.' and '-', starting with a letter or digit",
)


class NodeSection(Section):
    store_id: str = Field(pattern=IDENTIFIER, description="Store identifier, used in MQTT topics.")
    node_id: str = Field(pattern=IDENTIFIER, description="This shelf node's identifier within the store.")
    state_dir: Path = Field(
        default=Path("/var/lib/shelf-node"),
        description="Calibration, outbox, snapshots and counters live here (systemd StateDirectory).",
    )
