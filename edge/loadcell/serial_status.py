"""Health counters of the serial path: what arrived, what was dropped and why, port outages.

One `SerialHealth` per reader. The reader thread is the only writer; other threads call
`status()`, which copies plain values into a frozen `SerialStatus`. Every dict here is allocated
once with its final size, so a concurrent copy never sees one change size mid-copy. Per-channel
fault signs (dropouts, stuck, saturated) are not here: the frames' consumer tracks them
(edge/loadcell/channel_faults.py), so they are counted once, in frame order.

Invariant (checked by the fuzz tests): every line handed to a parser increments exactly one of
`frames_ok`, `info_frames`, `checksum_errors`, one `malformed[reason]`, or `blank_lines`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge.model import InfoFrame

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
    last_info: InfoFrame | None = None
    info_channel_mismatch: bool = False
    board_changes: int = 0  # info frames naming another uid or firmware than the one before (a board swap)
    last_frame_t: float | None = None
    # port
    port_opens: int = 0
    port_reopens: int = 0
    port_outages: int = 0
    outage_s: float = 0.0
    outage_started: float | None = None  # monotonic time the current outage began, None while connected
    connected: bool = False
    last_port_error: str | None = None
    port_busy: bool = False  # the last open failed because another process holds the port
    unexpected_errors: int = 0  # exceptions from callbacks or a parser bug, logged with traceback

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
        self.port_busy = False

    def port_lost(self, monotonic_now: float, error: str, was_connected: bool, busy: bool = False) -> None:
        """The port failed to open (`was_connected=False`; `busy`: held by another process) or was lost."""
        self.last_port_error = error
        self.port_busy = busy
        if was_connected:
            self.port_outages += 1
        self.connected = False
        if self.outage_started is None:
            self.outage_started = monotonic_now

    def info_seen(self, info: InfoFrame) -> None:
        last = self.last_info
        if last is not None and (last.uid, last.firmware) != (info.uid, info.firmware):
            self.board_changes += 1
        self.last_info = info
        self.info_channel_mismatch = info.channels != self.channels

    def status(self, monotonic_now: float | None = None) -> SerialStatus:
        """A frozen copy. Outage seconds include the outage in progress."""
        now = time.monotonic() if monotonic_now is None else monotonic_now
        outage = self.outage_s + (now - self.outage_started if self.outage_started is not None else 0.0)
        age = None if self.last_frame_t is None else max(0.0, self.clock() - self.last_frame_t)
        return SerialStatus(
            lines=self.lines,
            bytes_received=self.bytes_received,
            frames_ok=self.frames_ok,
            info_frames=self.info_frames,
            checksum_errors=self.checksum_errors,
            malformed=dict(self.malformed),
            errors=self.errors,
            blank_lines=self.blank_lines,
            partial_lines_dropped=self.partial_lines_dropped,
            garbage_prefixes=self.garbage_prefixes,
            seq_gaps=self.seq_gaps,
            frames_lost=self.frames_lost,
            mcu_resets=self.mcu_resets,
            last_info=self.last_info,
            info_channel_mismatch=self.info_channel_mismatch,
            board_changes=self.board_changes,
            last_frame_age_s=None if age is None else round(age, 3),
            port=PortStatus(self.connected, self.port_opens, self.port_reopens, self.port_outages, round(outage, 3),
                            self.last_port_error, self.port_busy),
            unexpected_errors=self.unexpected_errors,
        )


@dataclass(frozen=True, slots=True)
class PortStatus:
    connected: bool
    opens: int
    reopens: int
    outages: int
    outage_s: float  # includes an outage in progress, and the time before the very first open
    last_error: str | None
    busy: bool  # the last open failed: another process holds the port (last_error names it)


@dataclass(frozen=True, slots=True)
class SerialStatus:
    """The serial path's counters (`stats.parts.serial`, `serial watch --json`); see docs/serial-protocol.md."""

    lines: int
    bytes_received: int
    frames_ok: int
    info_frames: int
    checksum_errors: int
    malformed: Mapping[str, int]
    errors: int
    blank_lines: int
    partial_lines_dropped: int
    garbage_prefixes: int
    seq_gaps: int
    frames_lost: int
    mcu_resets: int
    last_info: InfoFrame | None
    info_channel_mismatch: bool
    board_changes: int
    last_frame_age_s: float | None
    port: PortStatus
    unexpected_errors: int

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["malformed"] = dict(self.malformed)
        info = self.last_info
        data["last_info"] = None if info is None else {
            "firmware": info.firmware, "channels": info.channels, "sps": info.sps, "uid": info.uid}
        data["port"] = dataclasses.asdict(self.port)
        return data
