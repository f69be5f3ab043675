"""`shelf-node serial sniff`: each raw serial line with its verdict (ok, checksum, or why it is malformed) and
its fields decoded, by the node's own parser. Pure apart from the clock the caller passes with each line.

`RawLines` is the running node's ring of its latest raw lines (fed on the reader thread, read by the control
socket's `serial-lines`), so a technician can sniff through the daemon, which holds the port exclusively.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from typing import Any

from edge.config.serial import SerialSection
from edge.loadcell.framing import checksum
from edge.loadcell.protocol import make_parser
from edge.loadcell.serial_status import SerialHealth
from edge.model import InfoFrame, WeightFrame

KEEP_LINES = 2000  # 25 s at 80 SPS: a sniffing client polling a few times a second never misses a line


@dataclass(frozen=True, slots=True)
class SniffedLine:
    t: float  # host time the line arrived
    raw: str  # the line as received (undecodable bytes replaced)
    verdict: str  # "ok", "checksum", "blank", or a malformed reason (bad_framing, field_count, ...)
    kind: str | None  # "weight" or "info" when it decoded
    fields: dict[str, Any]  # the decoded fields, or for a bad checksum the one received and the one computed

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, "raw": self.raw, "verdict": self.verdict, "kind": self.kind, "fields": self.fields}


class LineJudge:
    """Decodes lines one by one with the parser `section.protocol` asks for, on counters of its own."""

    def __init__(self, section: SerialSection) -> None:
        self.section = section
        self.health = SerialHealth(section.channels)
        self.parser = make_parser(section, self.health)

    def judge(self, t: float, raw: bytes) -> SniffedLine:
        health = self.health
        before = (health.checksum_errors, health.blank_lines, dict(health.malformed))
        record = self.parser.parse(raw, t)
        text = raw.decode("ascii", errors="replace").rstrip("\r")
        if isinstance(record, WeightFrame):
            fields: dict[str, Any] = {"seq": record.seq, "mcu_ms": record.mcu_ms, "counts": list(record.counts)}
            return SniffedLine(t, text, "ok", "weight", fields)
        if isinstance(record, InfoFrame):
            fields = {"firmware": record.firmware, "channels": record.channels, "sps": record.sps, "uid": record.uid}
            return SniffedLine(t, text, "ok", "info", fields)
        if health.checksum_errors > before[0]:
            return SniffedLine(t, text, "checksum", None, _checksums(raw))
        if health.blank_lines > before[1]:
            return SniffedLine(t, text, "blank", None, {})
        reason = next((r for r, n in health.malformed.items() if n > before[2].get(r, 0)), "malformed")
        return SniffedLine(t, text, reason, None, {})


def _checksums(raw: bytes) -> dict[str, Any]:
    line = raw.strip()
    start, star = line.rfind(b"$"), line.rfind(b"*")
    body, received = line[start + 1 : star], line[star + 1 :].decode("ascii", errors="replace")
    return {"received": received, "computed": f"{checksum(body):02X}"}


class RawLines:
    """The latest raw lines, numbered from 1; thread-safe, bounded."""

    def __init__(self, keep: int = KEEP_LINES) -> None:
        self._lines: collections.deque[tuple[int, float, bytes]] = collections.deque(maxlen=keep)
        self._count = 0
        self._lock = threading.Lock()

    def add(self, t: float, raw: bytes) -> None:
        with self._lock:
            self._count += 1
            self._lines.append((self._count, t, raw))

    def after(self, n: int, limit: int) -> tuple[list[tuple[int, float, bytes]], int]:
        """(up to `limit` lines numbered above `n`, oldest first; the number of the last line received)."""
        with self._lock:
            lines = [line for line in self._lines if line[0] > n]
            return lines[:limit], self._count
