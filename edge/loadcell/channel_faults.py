"""The one tracker of per-channel fault signs in accepted frames: silent, at the ADC rail, not a number, stuck.

One `ChannelFaults` per stream of frames, fed in frame order by the stream's one consumer: the
Weigher (in the daemon and in replay, so both see the same state at the same frame) or `serial
watch`. Its counters are reported once, in the weigher's status (`stats.parts.weighing.channels`).

- silent: the channel's field was empty (its ADC did not answer) or the plain protocol sent `nan`,
  `inf` or `ovf` (Arduino's Serial.print of a failed read);
- saturated: at or beyond +-`rail` ([weighing] saturation_counts, the 24-bit rail by default): an
  overloaded or open cell. A source sending grams (plain protocol, plain_units = "grams") has no rail;
- invalid: a value that is not a number (NaN in a frame built by other code);
- stuck: `stuck_frames` identical readings in a row ([serial] stuck_frames). A live 24-bit bridge
  always shows noise, so this means a frozen ADC or a firmware bug. Not a fault for weighing.

A channel is `faulty_at(t)` while it faults, and for FAULT_HOLD_S after its last fault.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edge.loadcell.protocol import sends_grams

if TYPE_CHECKING:
    from edge.config import NodeConfig

FAULT_HOLD_S = 5.0
SILENT, SATURATED, INVALID = "silent", "saturated", "invalid"


@dataclasses.dataclass(frozen=True, slots=True)
class ChannelStatus:
    """One channel's fault counters (`stats.parts.weighing.channels[<index>]`)."""

    faulty: bool
    last_fault: str | None
    silent_frames: int
    saturated_frames: int
    invalid_frames: int
    stuck_events: int
    stuck_now: bool

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ChannelFaults:
    def __init__(self, channels: int, stuck_frames: int, rail: float | None) -> None:
        self.channels = channels
        self.stuck_frames = stuck_frames
        self.rail = rail  # None: no saturation check (values are grams)
        self.kind_now: list[str | None] = [None] * channels  # this frame's fault per channel (None = usable)
        self.silent = [0] * channels
        self.saturated = [0] * channels
        self.invalid = [0] * channels
        self.stuck_events = [0] * channels
        self.stuck_now = [False] * channels
        self._consecutive = [0] * channels
        self._last_fault_t: list[float | None] = [None] * channels
        self._last_kind: list[str | None] = [None] * channels
        self._last: list[float | None] = [None] * channels
        self._run = [0] * channels

    @classmethod
    def from_config(cls, config: NodeConfig) -> ChannelFaults:
        serial = config.serial
        rail = None if sends_grams(serial) else float(config.weighing.saturation_counts)
        return cls(serial.channels, serial.stuck_frames, rail)

    def classify(self, value: float | None) -> str | None:
        """None when `value` is usable, else SILENT, SATURATED or INVALID."""
        if value is None:
            return SILENT
        if value != value:
            return INVALID
        rail = self.rail
        if rail is not None and (value >= rail or value <= -rail):
            return SATURATED
        return None

    def observe(self, t: float, counts: Sequence[float | None]) -> list[str | None]:
        """Account one frame (a channel missing from a short frame is silent); returns `kind_now`."""
        n = len(counts)
        kinds = self.kind_now
        last, run = self._last, self._run
        for index in range(self.channels):
            value = counts[index] if index < n else None
            kind = self.classify(value)
            kinds[index] = kind
            if value is None:
                run[index] = 0
                self.stuck_now[index] = False
            elif value == last[index]:
                run[index] += 1
                if run[index] == self.stuck_frames:
                    self.stuck_events[index] += 1
                    self.stuck_now[index] = True
            else:
                run[index] = 1
                self.stuck_now[index] = False
            last[index] = value
            if kind is None:
                self._consecutive[index] = 0
                continue
            if kind is SILENT:
                self.silent[index] += 1
            elif kind is SATURATED:
                self.saturated[index] += 1
            else:
                self.invalid[index] += 1
            self._consecutive[index] += 1
            self._last_fault_t[index] = t
            self._last_kind[index] = kind
        return kinds

    def faulty_at(self, channel: int, t: float) -> bool:
        last = self._last_fault_t[channel]
        return self._consecutive[channel] > 0 or (last is not None and t - last < FAULT_HOLD_S)

    def status(self, t: float) -> tuple[ChannelStatus, ...]:
        return tuple(
            ChannelStatus(self.faulty_at(i, t), self._last_kind[i], self.silent[i], self.saturated[i],
                          self.invalid[i], self.stuck_events[i], self.stuck_now[i])
            for i in range(self.channels)
        )
