"""`shelf-node run --record FILE`: every serial line the node receives, into a capture file for replay.

The recording is a diagnostic beside the node, not part of its output: a write the disk refuses (full,
removed, I/O error) stops the recording, loudly and once, and never the node or its reader thread.
What was written before stays a valid capture.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.errors import CaptureError
from edge.loadcell.recording import MAGIC, CaptureWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """`stats.parts.recording` while the node records."""

    path: str
    lines: int  # lines written
    lines_lost: int  # lines received after the recording stopped
    error: str | None  # why it stopped; None while it records

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class LineRecorder:
    """Called on the serial reader thread for each raw line; `status()` from any thread."""

    def __init__(self, path: Path, header: dict[str, str]) -> None:
        self.path = path
        if _is_other_file(path):
            raise CaptureError(f"--record {path}: the file exists and is not a shelf-node capture; refusing to "
                               f"overwrite it (is it the config, the outbox or the calibration?). Give a new path")
        try:
            self._writer = CaptureWriter(path, header)
        except OSError as exc:
            raise CaptureError(f"--record {path}: cannot create the capture file: {exc.strerror or exc}; "
                               f"give a path in a directory that exists and this user may write") from None
        self._lines = 0
        self._lost = 0
        self._error: str | None = None

    def write(self, t: float, raw: bytes) -> None:
        if self._error is not None:
            self._lost += 1
            return
        try:
            self._writer.write(t, raw)
        except OSError as exc:
            self._stopped(exc)
            self._lost += 1
            return
        self._lines += 1

    def close(self) -> None:
        try:
            self._writer.close()  # closes the file even when the flush of its last lines fails
        except OSError as exc:
            if self._error is None:
                self._stopped(exc)

    def status(self) -> RecordingStatus:
        return RecordingStatus(str(self.path), self._lines, self._lost, self._error)

    def _stopped(self, exc: OSError) -> None:
        self._error = f"cannot write {self.path}: {exc.strerror or exc}"
        log.error("recording stopped: %s; the node goes on without it (the capture keeps the lines before; "
                  "free space or record elsewhere)", self._error)


def _is_other_file(path: Path) -> bool:
    """An existing file that a recording would truncate, other than an earlier capture (which may be replaced)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
    except OSError:  # missing; or a directory, or unreadable: opening it for writing will say why
        return False
    return bool(first) and first.rstrip(b"\r\n") != MAGIC.encode()
