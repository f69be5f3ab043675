"""The weigher's board watch and calibration commands (MQTT commands, docs/weighing.md): observe the MCU's info
frames, confirm the board, undo or reset a calibration. A mixin of `Weigher`, which holds the state it uses."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from edge.errors import CalibrationError, ShelfNodeError
from edge.weighing.board import BoardWatch
from edge.weighing.calibration import Board, Calibration
from edge.weighing.clock_steps import ClockSteps
from edge.weighing.status import BoardChange
from edge.weighing.store import CalibrationStore

log = logging.getLogger("edge.weighing.weigher")


class BoardCommands:
    # the weigher's state these commands read and change (edge/weighing/weigher.py)
    _lock: threading.Lock
    _board: BoardWatch
    calibration: Calibration
    store: CalibrationStore | None
    steps: ClockSteps
    default_scale: float
    plate_names: list[str]
    _plate_channels: list[list[int]]

    def _install(self, calibration: Calibration, plate_fits: dict[str, dict[str, Any]]) -> None:
        raise NotImplementedError

    def _restart(self, indices: range | list[int]) -> None:
        raise NotImplementedError

    def _index(self, plate: str) -> int:
        raise NotImplementedError

    def observe_board(self, uid: str, firmware: str) -> BoardChange | None:
        """Every MCU info frame (node, replay): the change while it is not the calibration's board (board.py)."""
        with self._lock:
            self.steps.new_boot()
            seen = Board(uid, firmware)
            if self._board.observe(seen, self.calibration) == "adopt":
                self.calibration = replace(self.calibration, board=seen)
                if self.calibration.source != "defaults" and self.store is not None and not self.store.read_only:
                    try:  # so that a board swapped while the node is off is seen too
                        self.store.save(self.calibration)
                    except ShelfNodeError as exc:
                        log.warning("could not record the board in the calibration: %s", exc)
            return self._board.change

    def board_change(self) -> BoardChange | None:
        """The change `observe_board` last found, or None (what status() shows as board_changed)."""
        with self._lock:
            return self._board.change

    def confirm_board(self) -> Board:
        """The technician confirms the calibration holds for the board now answering (saved)."""
        with self._lock:
            seen = self._board.seen
            if seen is None:
                raise CalibrationError("no MCU info frame seen yet, so there is no board to confirm; wait for the "
                                       "board to answer (framed protocol only) and retry")
            self._install(self.calibration, {})
            return seen

    def undo_calibration(self) -> str:
        """Back to the calibration the last tare, calibration or reset replaced (its file is returned)."""
        with self._lock:
            if self.store is None:
                raise CalibrationError("this weigher has no calibration file, so there is nothing to undo")
            self.calibration = self.store.undo(len(self.calibration.channels), self.default_scale)
            self._board.change = None
            if self._board.seen is not None:
                self._board.observe(self._board.seen, self.calibration)
            self._restart(range(len(self.plate_names)))
            return str(self.store.path)

    def reset_calibration(self, plate: str) -> None:
        """The plate's channels back to the defaults and its fit forgotten (saved; undo brings it back)."""
        with self._lock:
            index = self._index(plate)
            self._install(self.calibration.reset_plate(plate, self._plate_channels[index], self.default_scale), {})
            self._restart([index])
