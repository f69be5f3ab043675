"""Per-channel fault signs in accepted frames: dropouts, stuck values, saturation at the ADC rail.

A live 24-bit bridge always shows some noise, so `stuck_frames` identical readings in a row
mean a frozen ADC or a firmware bug; a reading at the rail means an overloaded or open cell.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.loadcell.health import SerialHealth

COUNT_MIN = -(1 << 23)  # -8388608, the 24-bit rails
COUNT_MAX = (1 << 23) - 1  # 8388607


class ChannelMonitor:
    def __init__(self, health: SerialHealth, stuck_frames: int, check_saturation: bool = True) -> None:
        self.health = health
        self.stuck_frames = stuck_frames
        self.check_saturation = check_saturation
        channels = health.channels
        self._last: list[float | None] = [None] * channels
        self._run = [0] * channels

    def observe(self, counts: Sequence[float | None]) -> None:
        health = self.health
        last = self._last
        run = self._run
        for index, value in enumerate(counts):
            if value is None:
                health.dropouts[index] += 1
                run[index] = 0
                health.stuck_now[index] = False
            elif value == last[index]:
                run[index] += 1
                if run[index] == self.stuck_frames:
                    health.stuck_events[index] += 1
                    health.stuck_now[index] = True
            else:
                run[index] = 1
                health.stuck_now[index] = False
            last[index] = value
            if self.check_saturation and value is not None and (value >= COUNT_MAX or value <= COUNT_MIN):
                health.saturated_frames[index] += 1
