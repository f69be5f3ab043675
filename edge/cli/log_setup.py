"""Logging for the daemon and the CLI: journald-friendly, levels per component, optional JSON lines.

- Under systemd (`$JOURNAL_STREAM` names our stderr) a line carries no timestamp (journald stamps it) and
  starts with the syslog priority `<N>`, so `journalctl -p warning` filters by level.
- `--log-levels edge.mqtt=debug,edge.vision=warning` (or `$SHELF_NODE_LOG_LEVELS`) sets components apart
  from the global `--log-level`.
- `--log-format json` (or `$SHELF_NODE_LOG_FORMAT=json`): one JSON object per line (ts, level, logger,
  message, and the traceback as `exc`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import IO, Any

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def under_journald(stream: IO[str], environ: Mapping[str, str] = os.environ) -> bool:
    """$JOURNAL_STREAM is "device:inode" of the stream systemd connected; true when it is `stream`."""
    expected = environ.get("JOURNAL_STREAM", "")
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return bool(expected) and expected == f"{stat.st_dev}:{stat.st_ino}"


class JournalFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{SYSLOG_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                                "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class _OurHandler(logging.StreamHandler):
    """The handler `configure` installs (and replaces on a second call)."""


def parse_levels(text: str) -> dict[str, int]:
    """`edge.mqtt=debug,edge.vision=warning` -> {logger: level}; ValueError naming the bad part."""
    levels = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, level = part.partition("=")
        if not name or level.lower() not in LEVELS:
            raise ValueError(f"{part!r}: write COMPONENT=LEVEL, LEVEL one of {', '.join(LEVELS)} "
                             f"(e.g. edge.mqtt=debug)")
        levels[name.strip()] = LEVELS[level.lower()]
    return levels


def configure(level: str, per_component: str = "", fmt: str = "text", stream: IO[str] | None = None,
              environ: Mapping[str, str] = os.environ) -> None:
    """As logging.basicConfig: the handler and the global level only when the root has no handler but ours (a
    host that set up logging itself, e.g. pytest, keeps its own); per-component levels in any case."""
    levels = parse_levels(per_component)
    stream = stream or sys.stderr
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    if not root.handlers:
        handler = _OurHandler(stream)
        if fmt == "json":
            handler.setFormatter(JsonFormatter())
        elif under_journald(stream, environ):
            handler.setFormatter(JournalFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(LEVELS[level])
    for name, component_level in levels.items():
        logging.getLogger(name).setLevel(component_level)
