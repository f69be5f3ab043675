"""Health counters of the serial path: what arrived, what was dropped and why, port outages.

One `SerialHealth` per reader. The reader thread is the only writer; other threads call
`snapshot()`, which copies plain values. Every dict and list here is allocated once with
its final size, so a concurrent snapshot never sees one change size mid-copy.

Invariant (checked by the fuzz tests): every line handed to a parser increments exactly one of
`frames_ok`, `info_frames`, `checksum_errors`, one `malformed[reason]`, or `blank_lines`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Why a line was dropped (besides a checksum mismatch, counted on its own).
MALFORMED_REASONS = (
    "too_long",  # longer than serial.max_line_bytes (the rest up to the newline is discarded)
    "bad_framing",  # framed protocol: no '$' start, no '*HH' end, or bytes after the checksum
    "field_count",  # not the configured number of channels, or an info frame missing a key
    "not_a_number",  # a field that should be a number is not
    "out_of_range",  # seq/t_ms beyond uint32, counts beyond 24-bit, channel count beyond 1..32
    "unknown_type",  # a valid frame of a type other than W or I
)


@dataclass
class SerialHealth:
    """Counters for one serial source. Times are host seconds (`clock`, default time.time)."""

    channels: int
    clock: Callable[[], float] = time.time
    # lines and frames
    lines: int = 0
    bytes_received: int = 0
    frames_ok: int = 0
    info_frames: int = 0
    checksum_errors: int = 0
    blank_lines: int = 0
    partial_lines_dropped: int = 0  # an unterminated fragment thrown away when the port was lost
    garbage_prefixes: int = 0  # valid frames preceded by stray bytes on their line (boot noise, a cut-off frame)
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MALFORMED_REASONS, 0))
    # sequence
    seq_gaps: int = 0  # how many times the sequence skipped ahead
    frames_lost: int = 0  # how many frames those skips add up to
    mcu_resets: int = 0
    last_info: dict[str, Any] | None = None
    info_channel_mismatch: bool = False
    # per channel
    dropouts: list[int] = field(default_factory=list)
    stuck_events: list[int] = field(default_factory=list)
    stuck_now: list[bool] = field(default_factory=list)
    saturated_frames: list[int] = field(default_factory=list)
    last_frame_t: float | None = None
    # port
    port_opens: int = 0
    port_reopens: int = 0
    port_outages: int = 0
    outage_s: float = 0.0
    outage_started: float | None = None  # monotonic time the current outage began, None while connected
    connected: bool = False
    last_port_error: str | None = None
    unexpected_errors: int = 0  # exceptions from callbacks or a parser bug, logged with traceback

    def __post_init__(self) -> None:
        self.dropouts = [0] * self.channels
        self.stuck_events = [0] * self.channels
        self.stuck_now = [False] * self.channels
        self.saturated_frames = [0] * self.channels

    @property
    def errors(self) -> int:
        """Lines dropped for any reason (checksum or malformed)."""
        return self.checksum_errors + sum(self.malformed.values())

    def count_malformed(self, reason: str) -> None:
        self.malformed[reason] += 1

    def port_opened(self, monotonic_now: float) -> None:
        self.port_opens += 1
        if self.outage_started is not None:
            self.outage_s += monotonic_now - self.outage_started
            self.outage_started = None
            if self.port_outages:
                self.port_reopens += 1
        self.connected = True
        self.last_port_error = None

    def port_lost(self, monotonic_now: float, error: str, was_connected: bool) -> None:
        """The port failed to open (`was_connected=False`) or was lost while open."""
        self.last_port_error = error
        if was_connected:
            self.port_outages += 1
        self.connected = False
        if self.outage_started is None:
            self.outage_started = monotonic_now

    def snapshot(self, monotonic_now: float | None = None) -> dict[str, Any]:
        """Plain JSON-ready copy. Outage seconds include the outage in progress."""
        now = time.monotonic() if monotonic_now is None else monotonic_now
        outage = self.outage_s + (now - self.outage_started if self.outage_started is not None else 0.0)
        age = None if self.last_frame_t is None else max(0.0, self.clock() - self.last_frame_t)
        return {
            "lines": self.lines,
            "bytes_received": self.bytes_received,
            "frames_ok": self.frames_ok,
            "info_frames": self.info_frames,
            "checksum_errors": self.checksum_errors,
            "malformed": dict(self.malformed),
            "errors": self.errors,
            "blank_lines": self.blank_lines,
            "partial_lines_dropped": self.partial_lines_dropped,
            "garbage_prefixes": self.garbage_prefixes,
            "seq_gaps": self.seq_gaps,
            "frames_lost": self.frames_lost,
            "mcu_resets": self.mcu_resets,
            "last_info": None if self.last_info is None else dict(self.last_info),
            "info_channel_mismatch": self.info_channel_mismatch,
            "dropouts": list(self.dropouts),
            "stuck_events": list(self.stuck_events),
            "stuck_now": list(self.stuck_now),
            "saturated_frames": list(self.saturated_frames),
            "last_frame_age_s": None if age is None else round(age, 3),
            "port": {
                "connected": self.connected,
                "opens": self.port_opens,
                "reopens": self.port_reopens,
                "outages": self.port_outages,
                "outage_s": round(outage, 3),
                "last_error": self.last_port_error,
            },
            "unexpected_errors": self.unexpected_errors,
        }
