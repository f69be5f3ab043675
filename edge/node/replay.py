"""Feed a capture file through the live parser and Weigher, as fast as the CPU allows.

Time comes from the capture (each line's reception time), never the wall clock, and the
calibration from the config defaults or a read-only file, so a replay is reproducible:
the same capture and config give the same events, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import NodeConfig
from edge.errors import CaptureError
from edge.loadcell.recording import read_capture, read_header
from edge.loadcell.health import SerialHealth
from edge.loadcell.protocol import make_parser
from edge.model import WeightEvent, WeightFrame
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
    health: SerialHealth = field(init=False)
    weigher: Weigher = field(init=False)

    def __post_init__(self) -> None:
        check_header(self.config, self.capture)
        self.health = SerialHealth(self.config.serial.channels, clock=lambda: 0.0)
        self.weigher = Weigher(self.config, self.calibration)

    def events(self) -> Iterator[tuple[float, WeightEvent]]:
        """(capture time at which the event was emitted, event), in emission order."""
        parser = make_parser(self.config.serial, self.health)
        feed = self.weigher.feed
        on_line = self.on_line
        for t, raw in read_capture(self.capture):
            if on_line is not None:
                on_line(len(raw) + 19)
            record = parser.parse(raw, t)
            if isinstance(record, WeightFrame):
                for event in feed(record):
                    yield t, event

    def summary(self) -> dict[str, Any]:
        serial = self.health.snapshot(0.0)
        return {
            "capture": str(self.capture),
            "frames": self.weigher.frames,
            "events": self.weigher.events,
            "serial": {key: serial[key] for key in SERIAL_KEYS if key in serial},
            "weighing": self.weigher.status(),
        }


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
