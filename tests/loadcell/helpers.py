"""Builders shared by the load-cell tests: config sections, parsers with fresh health."""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Any

from edge.config.serial import SerialSection
from edge.loadcell.channel_faults import ChannelFaults
from edge.loadcell.framing import QUERY, info_frame, weight_frame
from edge.loadcell.protocol import FramedParser, LineParser, PlainParser, make_parser
from edge.loadcell.serial_status import SerialHealth
from edge.model import InfoFrame, WeightFrame

# reader settings that keep tests quick: short waits and backoff
FAST: dict[str, Any] = {"channels": 4, "read_timeout_s": 0.05, "backoff_min_s": 0.05, "backoff_max_s": 0.2}


def section(**overrides: Any) -> SerialSection:
    values: dict[str, Any] = {"port": "loop://", "channels": 4}
    values.update(overrides)
    return SerialSection(**values)


def framed(channels: int = 4, **kwargs: Any) -> FramedParser:
    return FramedParser(SerialHealth(channels), **kwargs)


def plain(channels: int = 3, units: str = "counts") -> PlainParser:
    return PlainParser(SerialHealth(channels), units=units)


def parser_for(**overrides: Any) -> LineParser:
    config = section(**overrides)
    return make_parser(config, SerialHealth(config.channels))


def faults_of(frames: list[WeightFrame | InfoFrame | None], channels: int, stuck_frames: int = 50,
              rail: float | None = 8_388_607) -> ChannelFaults:
    """The channel-fault tracker after the weight frames among `frames` (what the Weigher keeps)."""
    faults = ChannelFaults(channels, stuck_frames, rail)
    for frame in frames:
        if isinstance(frame, WeightFrame):
            faults.observe(frame.t, frame.counts)
    return faults


def accounted(health: SerialHealth) -> int:
    """Lines the health counters account for; must equal health.lines."""
    return health.frames_ok + health.info_frames + health.errors + health.blank_lines


class PtyMcu:
    """Plays the microcontroller on the master side of a real pseudo-terminal pair."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing, before the reader configures it
        self.path = os.ttyname(self.slave)
        self.plugged = True

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def send_frames(self, seqs: range) -> None:
        self.send(b"".join(weight_frame(seq, seq * 12, [seq, -seq, 100, None]) for seq in seqs))

    def received(self, timeout: float = 2.0) -> bytes:
        """What the host wrote to the MCU (e.g. $Q)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        return os.read(self.master, 1024) if ready else b""

    def unplug(self) -> None:
        if self.plugged:
            self.plugged = False
            os.close(self.master)
            os.close(self.slave)


class StreamingMcu(threading.Thread):
    """A pty MCU that answers $Q with its info frame and streams 4-channel frames at `rate_hz`."""

    def __init__(self, rate_hz: float = 200.0, channels: int = 4) -> None:
        super().__init__(daemon=True)
        self.pty = PtyMcu()
        self.rate_hz = rate_hz
        self.channels = channels
        self.sent = 0
        self.queries = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        seq = 0
        while not self._stop_event.is_set():
            ready, _, _ = select.select([self.pty.master], [], [], 0)
            if ready and QUERY in os.read(self.pty.master, 1024):
                self.queries += 1
                self.pty.send(info_frame("stream-fw", self.channels, self.rate_hz, "S1"))
            self.pty.send(weight_frame(seq, seq * 5, [seq % 1000 + c for c in range(self.channels)]))
            seq += 1
            self.sent += 1
            time.sleep(1.0 / self.rate_hz)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(2.0)
        self.pty.unplug()


class Collector:
    def __init__(self) -> None:
        self.frames: list[WeightFrame | InfoFrame] = []
        self.lines: list[tuple[float, bytes]] = []
        self.lock = threading.Lock()

    def on_frame(self, frame: WeightFrame | InfoFrame) -> None:
        with self.lock:
            self.frames.append(frame)

    def on_line(self, t: float, raw: bytes) -> None:
        with self.lock:
            self.lines.append((t, raw))

    def weights(self) -> list[WeightFrame]:
        with self.lock:
            return [f for f in self.frames if isinstance(f, WeightFrame)]
