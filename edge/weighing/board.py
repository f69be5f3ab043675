"""Which microcontroller board a calibration belongs to, and whether the one answering now is another.

Tare offsets and scales are properties of one board's ADCs and cells. The MCU's info frame names it
(uid, firmware); the calibration records the board it was made with. When another board answers
(a swapped MCU, a reflashed firmware, a simulator restarted with another seed), the calibration
belongs to the old one: that is logged as a warning once per change, shown in status, and events
are flagged `board_changed` until a tare, a calibration or `confirm-board` records the new board.
A calibration without a recorded board (defaults, or a file older than this) takes the first board
seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from edge.weighing.calibration import Board, Calibration
from edge.weighing.status import BoardChange

log = logging.getLogger(__name__)


@dataclass
class BoardWatch:
    seen: Board | None = None
    change: BoardChange | None = field(default=None)

    def observe(self, seen: Board, calibration: Calibration) -> Literal["adopt", "same", "changed"]:
        """`adopt`: the calibration has no board yet and should take this one."""
        self.seen = seen
        expected = calibration.board
        if expected is None:
            return "adopt"
        if expected == seen:
            if self.change is not None:
                log.info("the MCU is again the board the calibration was made with (uid %s, firmware %s)",
                         seen.uid, seen.firmware)
            self.change = None
            return "same"
        if self.change is None or self.change.seen != seen:
            log.warning(
                "the MCU now answering (uid %s, firmware %s) is not the board the calibration was made with "
                "(uid %s, firmware %s): its grams may be wrong. Events are flagged board_changed until a "
                "technician tares or recalibrates, or confirms the board (`shelf-node calibration confirm-board`, "
                "or the MQTT command)", seen.uid, seen.firmware, expected.uid, expected.firmware)
        self.change = BoardChange(expected, seen)
        return "changed"
