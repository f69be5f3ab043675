"""The weigher's status as frozen records (`Weigher.status()`): what the node publishes in
`stats.parts.weighing`, the `weights` command answers, and the control socket will show.

`to_json()` is the one place the JSON form is made (see docs/weighing.md, "status()").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from edge.loadcell.channel_faults import ChannelStatus
from edge.weighing.calibration import Board


@dataclasses.dataclass(frozen=True, slots=True)
class PlateStatus:
    grams: float | None
    stable: bool
    state: str  # starting | warmup | quiet | active | pending
    noise_sigma_g: float | None
    reference_g: float | None
    level_g: float | None
    channels: tuple[int, ...]
    faulty_channels: tuple[int, ...]
    over_range: bool  # read beyond +-[[plates]] max_g within the last FAULT_HOLD_S

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["channels"] = list(self.channels)
        data["faulty_channels"] = list(self.faulty_channels)
        return data


@dataclasses.dataclass(frozen=True, slots=True)
class BoardChange:
    """The MCU now answering is not the board the calibration was made with."""

    calibrated_with: Board
    seen: Board

    def to_json(self) -> dict[str, Any]:
        return {"calibrated_with": self.calibrated_with.to_json(), "seen": self.seen.to_json()}


@dataclasses.dataclass(frozen=True, slots=True)
class WeigherStatus:
    t: float | None  # time of the last frame processed
    samples_per_s: float | None
    shelf_stable: bool
    calibration: str  # "defaults", or the file it came from
    calibrated_plates: tuple[str, ...]
    plates: Mapping[str, PlateStatus]
    channels: tuple[ChannelStatus, ...]
    frames: int
    events: int
    board: Board | None  # the MCU the calibration was made with (None: not known yet)
    board_changed: BoardChange | None  # set until a tare, a calibration or confirm-board
    serial_outages: int  # gaps in the frames long enough to hide a change (docs/weighing.md)
    clock_steps: int = 0  # wall-clock steps between consecutive MCU samples, taken out of the weighing time

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "samples_per_s": self.samples_per_s,
            "shelf_stable": self.shelf_stable,
            "calibration": self.calibration,
            "calibrated_plates": list(self.calibrated_plates),
            "plates": {name: plate.to_json() for name, plate in self.plates.items()},
            "channels": {str(index): channel.to_json() for index, channel in enumerate(self.channels)},
            "frames": self.frames,
            "events": self.events,
            "board": None if self.board is None else self.board.to_json(),
            "board_changed": None if self.board_changed is None else self.board_changed.to_json(),
            "serial_outages": self.serial_outages,
            "clock_steps": self.clock_steps,
        }
