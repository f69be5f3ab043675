"""Durable outbox in front of MQTT: events are committed to SQLite before they are sent."""

from __future__ import annotations

from pathlib import Path

from edge.config.root import NodeConfig
from edge.outbox.store import EnvelopeInfo, Outbox, OutboxRow

__all__ = ["EnvelopeInfo", "Outbox", "OutboxRow", "open_outbox", "outbox_path"]


def outbox_path(config: NodeConfig) -> Path:
    """[outbox] path, or <node.state_dir>/outbox.sqlite3."""
    return config.outbox.path or config.node.state_dir / "outbox.sqlite3"


def open_outbox(config: NodeConfig) -> Outbox:
    return Outbox(outbox_path(config), config.outbox)
