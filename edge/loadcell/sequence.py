"""Follow the framed protocol's sequence number and MCU clock: lost frames and MCU resets.

`seq` and `t_ms` are uint32 that wrap; a wrap is not a gap. A reset (reboot of the
microcontroller) shows as the sequence going backwards, or as the MCU clock jumping by far
more than the host clock advanced (it restarted near 0; modulo 2^32 that is a huge jump).
A reboot whose first frames were all lost, so that seq and clock both land ahead, looks like
a gap; the info frame the MCU sends at boot still reports it (see protocol.py).
"""

from __future__ import annotations

from edge.loadcell.serial_status import SerialHealth

UINT32 = 1 << 32
_MASK = UINT32 - 1
_HALF = 1 << 31
# A clock may run ahead of the host's elapsed time by this much (ms) plus 2x before we call it a restart.
CLOCK_SLACK_MS = 5000.0


class SequenceTracker:
    def __init__(self, health: SerialHealth) -> None:
        self.health = health
        self._seq: int | None = None
        self._mcu_ms = 0
        self._t = 0.0

    def forget(self) -> None:
        """Start over: the next frame is the first of a new stream (after an MCU reset)."""
        self._seq = None

    def observe(self, seq: int, mcu_ms: int, t: float) -> None:
        last = self._seq
        if last is not None:
            gap = (seq - last - 1) & _MASK
            clock_step = (mcu_ms - self._mcu_ms) & _MASK
            host_ms = max(0.0, (t - self._t) * 1000.0)
            if gap >= _HALF or clock_step > 2.0 * host_ms + CLOCK_SLACK_MS:
                self.health.mcu_resets += 1
            elif gap:
                self.health.seq_gaps += 1
                self.health.frames_lost += gap
        self._seq = seq
        self._mcu_ms = mcu_ms
        self._t = t
