"""Feed a capture file through the live parser and Weigher, as fast as the CPU allows.

Time comes from the capture (each line's reception time), never the wall clock, and the
calibration from the config defaults or a read-only file, so a replay is reproducible:
the same capture and config give the same events, byte for byte.

A change still under way at the end of the capture is reported as the node reports one at stop
(`Weigher.flush`: quality `forced`, flag `stopped_early`), emitted at the last line's time, so it is
never dropped and comes out the same on every run. A damaged capture line (no TAB, no time) stops the
replay with a `FILE:LINE:` CaptureError after the events found before it have been handed out (no flush:
the capture did not end there); with `skip_bad` it is skipped and counted instead (`summary().reading`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import NodeConfig
from edge.errors import CaptureError
from edge.loadcell.protocol import make_parser
from edge.loadcell.recording import CaptureReader, CaptureReadStatus, read_header
from edge.loadcell.serial_status import SerialHealth, SerialStatus
from edge.model import InfoFrame, WeightEvent, WeightFrame
from edge.weighing.status import WeigherStatus
from edge.weighing.store import CalibrationStore
from edge.weighing.weigher import Weigher

SERIAL_KEYS = ("lines", "frames_ok", "errors", "checksum_errors", "malformed", "seq_gaps", "frames_lost", "mcu_resets")


@dataclass
class Replay:
    """One replay run; iterate `events()` then read `summary()`."""

    config: NodeConfig
    capture: Path
    calibration: CalibrationStore | None = None
    on_line: Callable[[int], None] | None = None  # progress: called with each raw line's size
    skip_bad: bool = False  # skip and count damaged capture lines instead of stopping at the first
    health: SerialHealth = field(init=False)
    weigher: Weigher = field(init=False)
    reader: CaptureReader = field(init=False)

    def __post_init__(self) -> None:
        check_header(self.config, self.capture)
        self.health = SerialHealth(self.config.serial.channels, clock=lambda: 0.0)
        self.weigher = Weigher(self.config, self.calibration)
        self.reader = CaptureReader(self.capture, skip_bad=self.skip_bad)

    def events(self) -> Iterator[tuple[float, WeightEvent]]:
        """(capture time at which the event was emitted, event), in emission order."""
        parser = make_parser(self.config.serial, self.health)
        feed = self.weigher.feed
        on_line = self.on_line
        t: float | None = None
        for t, raw in self.reader:
            if on_line is not None:
                on_line(len(raw) + 19)
            record = parser.parse(raw, t)
            if isinstance(record, WeightFrame):
                for event in feed(record):
                    yield t, event
            elif isinstance(record, InfoFrame):  # as the node does: another board flags the events
                self.weigher.observe_board(record.uid, record.firmware)
        if t is not None:  # the end of the capture: what was under way, as at a stop
            for event in self.weigher.flush(t):
                yield t, event

    def summary(self) -> ReplaySummary:
        return ReplaySummary(
            capture=self.capture,
            frames=self.weigher.frames,
            events=self.weigher.events,
            serial=self.health.status(0.0),
            weighing=self.weigher.status(),
            reading=self.reader.status(),
        )


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What one replay read and found (so far, when it stopped at a damaged line)."""

    capture: Path
    frames: int  # weight frames fed to the weigher
    events: int  # weight events it emitted
    serial: SerialStatus  # the parser's counters (bad serial lines, gaps, resets)
    weighing: WeigherStatus  # the weigher's status at the end of the capture
    reading: CaptureReadStatus  # capture lines read, skipped (skip_bad) and time steps backwards

    def to_json(self) -> dict[str, Any]:
        serial = self.serial.to_json()
        return {"capture": str(self.capture), "frames": self.frames, "events": self.events,
                "serial": {key: serial[key] for key in SERIAL_KEYS}, "weighing": self.weighing.to_json(),
                "reading": self.reading.to_json()}


def check_header(config: NodeConfig, capture: Path) -> dict[str, str]:
    """Refuse a capture whose header contradicts the config (it would replay as garbage)."""
    header = read_header(capture)
    problems = []
    channels = header.get("channels")
    if channels is not None and channels.isdigit() and int(channels) != config.serial.channels:
        problems.append(f"{channels} channels but serial.channels = {config.serial.channels}")
    protocol = header.get("protocol")
    if protocol in ("framed", "plain") and protocol != config.serial.protocol:
        problems.append(f"protocol {protocol} but serial.protocol = {config.serial.protocol}")
    if problems:
        raise CaptureError(
            f"{capture}: capture has {' and '.join(problems)}; replay it with the config it was recorded with"
        )
    return header
