"""Steps of the host's wall clock in the frames' times, told apart from serial outages by the MCU's numbering.

The reader stamps each frame with the host's wall clock. A jump of that time between two samples of one
MCU boot (`seq` going on), its own clock (`mcu_ms`) saying less than an outage passed, is the host's clock
stepping (NTP, an RTC set right, an administrator), or the host stalling with the lines buffered: the MCU
was not silent, so it is no outage (a few lines lost or corrupted on the way change nothing). It is
counted and taken out of the weighing timeline, so that no settle, grouping, hold or channel-fault time
stretches or shrinks by it (monotonic time drives every timeout); events leave on the wall clock of now.
The plain protocol carries no numbering: its gaps stay outages. Pure.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from edge.model import WeightEvent, WeightFrame
from edge.weighing.trace import shifted

log = logging.getLogger("edge.weighing.weigher")

STEP_BACK_S = 0.5  # the frames' time running back this far between consecutive samples is a step
MAX_LOST_LINES = 16  # a step is recognised across at most this many lines lost or corrupted at the moment


class ClockSteps:
    def __init__(self) -> None:
        self.count = 0
        self.total_s = 0.0  # their sum: weighing time = frame time - total_s
        self._last: WeightFrame | None = None

    def new_boot(self) -> None:
        """An MCU info frame (a boot): numbering and clock start again, so the last frame compares with nothing.
        Without this, a replug whose new boot had already counted past the old seq when the reader came back
        looked like a step (two boots' mcu_ms compared)."""
        self._last = None

    def weighing_time(self, frame: WeightFrame, last_t: float, outage_gap_s: float) -> float:
        """The frame's time on the weighing timeline (`last_t`: the previous frame's, NaN for none), taking
        out a step found between it and the previous frame."""
        t = frame.t - self.total_s
        gap = t - last_t  # NaN for the first frame: no comparison holds
        last, self._last = self._last, frame
        if not (gap >= outage_gap_s or gap <= -STEP_BACK_S) or last is None:
            return t
        if frame.seq is None or last.seq is None or not 0 < frame.seq - last.seq <= MAX_LOST_LINES + 1:
            return t  # the MCU rebooted meanwhile (its info frame may be lost too), or no numbering to tell
        if frame.mcu_ms is None or last.mcu_ms is None:
            return t
        mcu_gap = (frame.mcu_ms - last.mcu_ms) / 1000.0
        if not 0.0 <= mcu_gap < outage_gap_s:
            return t  # by the MCU's own clock too that long passed: samples were lost (an outage)
        step = gap - mcu_gap
        self.count += 1
        self.total_s += step
        log.warning("the host's wall clock stepped by %+.1f s between two MCU samples %.3f s apart; weighing goes "
                    "on in the MCU's time (%d step(s) so far)", step, mcu_gap, self.count)
        return t - step

    def to_wall(self, events: list[WeightEvent]) -> list[WeightEvent]:
        """Events from the weighing timeline onto the frames' (wall) clock of now."""
        if not self.total_s or not events:
            return events
        return [replace(e, t_start=e.t_start + self.total_s, t_end=e.t_end + self.total_s,
                        traces=shifted(e.traces, self.total_s)) for e in events]
