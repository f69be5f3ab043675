"""Durable outbox in front of MQTT: events are committed to SQLite before they are sent."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.config.root import NodeConfig
from edge.outbox.status import OutboxStatus
from edge.outbox.store import EnvelopeInfo, Outbox, OutboxCorruptError, OutboxRow

__all__ = ["EnvelopeInfo", "Outbox", "OutboxCorruptError", "OutboxRow", "OutboxStatus", "open_outbox",
           "outbox_path"]

log = logging.getLogger(__name__)


def outbox_path(config: NodeConfig) -> Path:
    """[outbox] path, or <node.state_dir>/outbox.sqlite3."""
    return config.outbox.path or config.node.state_dir / "outbox.sqlite3"


def open_outbox(config: NodeConfig) -> Outbox:
    """The daemon's way to open its outbox: a corrupt file is moved aside and salvaged, loudly.

    Refusing to start would crash-loop under Restart=always and record nothing until a technician
    came; salvaging keeps every readable event and the counters (when readable), and the node goes on
    recording. The damaged file stays beside the new one for a look (docs/mqtt.md "Corrupt outbox").
    """
    path = outbox_path(config)
    try:
        return Outbox(path, config.outbox)
    except OutboxCorruptError as exc:
        from edge.outbox.salvage import salvage

        log.error("%s; salvaging it now so that the node keeps recording", exc)
        report = salvage(path)
        log.error("%s", report.summary())
        return Outbox(path, config.outbox)
