"""The node's own MQTT commands (the link provides rebirth, stats and config):

    tare       {"plate": "p1"} or {} for every plate          changes state
    calibrate  {"plate": "p1", "known_g": 500}                changes state
               or {"plate": "p1", "points": [[reading_g, known_g], ...]}
    confirm-board      {}  the calibration holds for the MCU board now answering     changes state
    undo-calibration   {}  back to the calibration the last change replaced          changes state
    reset-calibration  {"plate": "p1"}  that plate's channels back to the defaults   changes state
    weights    {}  current grams, stability, faults and over-range per plate   read-only
    snapshot   {"event_snapshot": "<id>"} -> that stored JPEG, or {} -> a fresh annotated frame;
               returned base64-encoded                       read-only

Each handler gets only the collaborators it uses (a `Scale`, a `Camera`, a `SnapshotLookup`), so it
is tested with a real Weigher and a real snapshot store, without a Node.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from edge.errors import CommandError

if TYPE_CHECKING:
    from edge.weighing.calibration import Board
    from edge.weighing.status import WeigherStatus

MAX_SNAPSHOT_BYTES = 4_000_000
SNAPSHOT_WAIT_S = 3.0  # a review picture still being drawn by the worker is waited for this long


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class CommandTable(Protocol):
    """Where commands are registered: the MQTT CommandRegistry (edge.mqtt.commands) or the control
    socket's HandlerTable (edge.control.handlers), which share this signature."""

    def register(self, name: str, handler: Handler, changes_state: bool, description: str = "",
                 params: tuple[str, ...] = ()) -> None: ...


class Scale(Protocol):
    """What the commands need of the weigher (edge.weighing.Weigher)."""

    def tare(self, plate: str | None = None) -> dict[str, float]: ...
    def stable_reading(self, plate: str) -> float: ...
    def calibrate(self, plate: str, points: list[tuple[float, float]]) -> float: ...
    def status(self) -> WeigherStatus: ...
    def confirm_board(self) -> Board: ...
    def undo_calibration(self) -> str: ...
    def reset_calibration(self, plate: str) -> None: ...


class Camera(Protocol):
    """A fresh picture (edge.vision.service.VisionService)."""

    def snapshot(self, annotate: bool = True) -> bytes: ...


class SnapshotLookup(Protocol):
    """Stored event snapshots by id (edge.vision.snapshots.SnapshotStore)."""

    def get(self, snapshot_id: str, wait_s: float = 0.0) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class NodeCommands:
    """The handlers, bound to the plates' names and the parts they act on. `camera` and `snapshots`
    are None on a node without a [camera]."""

    plates: Sequence[str]
    scale: Scale
    camera: Camera | None = None
    snapshots: SnapshotLookup | None = None
    on_calibration: Callable[[], None] | None = None  # after a calibration change (the birth tells of it)

    def register(self, registry: CommandTable) -> None:
        """Each command with the params keys it reads: the registry refuses any other key."""
        registry.register("tare", self.tare, changes_state=True, params=("plate",),
                          description="Zero one plate ({'plate': name}) or all plates ({}); refused while moving.")
        registry.register("calibrate", self.calibrate, changes_state=True, params=("plate", "known_g", "points"),
                          description="Fit a plate to known weights: {'plate', 'known_g'} or {'plate', 'points'}.")
        registry.register("confirm-board", self.confirm_board, changes_state=True, params=(),
                          description="Keep the calibration for the MCU board now answering (after a board "
                                      "change); ends the board_changed flag.")
        registry.register("undo-calibration", self.undo_calibration, changes_state=True, params=(),
                          description="Go back to the calibration the last tare, calibrate or reset replaced.")
        registry.register("reset-calibration", self.reset_calibration, changes_state=True, params=("plate",),
                          description="Reset one plate ({'plate': name}) to the default calibration.")
        registry.register("weights", self.weights, changes_state=False, params=(),
                          description="Current grams, stability and noise per plate.")
        registry.register("snapshot", self.snapshot, changes_state=False, params=("event_snapshot",),
                          description="A stored event snapshot by id, or a fresh annotated camera frame "
                                      "(base64 JPEG).")

    def tare(self, params: dict[str, Any]) -> dict[str, Any]:
        removed = self.scale.tare(self._plate(params, required=False))
        self._changed()
        return {"tared": {name: round(grams, 3) for name, grams in removed.items()}}

    def calibrate(self, params: dict[str, Any]) -> dict[str, Any]:
        plate = self._plate(params, required=True)
        assert plate is not None
        if "points" in params and "known_g" in params:
            raise CommandError("params: give 'known_g' or 'points', not both (one of them would be ignored)")
        if "points" in params:
            points = parse_points(params["points"])
        elif "known_g" in params:
            known = params["known_g"]
            if not isinstance(known, int | float) or isinstance(known, bool):
                raise CommandError(f"params.known_g must be a number of grams, got {known!r}")
            points = [(self.scale.stable_reading(plate), float(known))]
        else:
            raise CommandError("params needs 'known_g' (weight now on the tared plate) or 'points' "
                               "[[reading, known]]")
        residual = self.scale.calibrate(plate, points)
        self._changed()
        return {"plate": plate, "points": len(points), "residual_g": round(residual, 4)}

    def confirm_board(self, params: dict[str, Any]) -> dict[str, Any]:
        board = self.scale.confirm_board()
        self._changed()
        return {"board": board.to_json()}

    def undo_calibration(self, params: dict[str, Any]) -> dict[str, Any]:
        restored = self.scale.undo_calibration()
        self._changed()
        return {"restored": restored}

    def reset_calibration(self, params: dict[str, Any]) -> dict[str, Any]:
        plate = self._plate(params, required=True)
        assert plate is not None
        self.scale.reset_calibration(plate)
        self._changed()
        return {"reset": plate}

    def weights(self, params: dict[str, Any]) -> dict[str, Any]:
        status = self.scale.status()
        return {"shelf_stable": status.shelf_stable, "plates": {
            name: {"grams": plate.grams, "stable": plate.stable, "noise_sigma_g": plate.noise_sigma_g,
                   "faulty_channels": list(plate.faulty_channels), "over_range": plate.over_range}
            for name, plate in status.plates.items()}}

    def snapshot(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.camera is None or self.snapshots is None:
            raise CommandError("this node has no [camera] configured, so there are no snapshots")
        snapshot_id = params.get("event_snapshot")
        jpeg = self.camera.snapshot(annotate=True) if snapshot_id is None else self._stored(snapshot_id)
        if len(jpeg) > MAX_SNAPSHOT_BYTES:
            raise CommandError(f"snapshot is {len(jpeg)} bytes, over the {MAX_SNAPSHOT_BYTES} byte response limit")
        return {"id": snapshot_id, "jpeg_base64": base64.b64encode(jpeg).decode("ascii"), "bytes": len(jpeg)}

    def _stored(self, snapshot_id: object) -> bytes:
        assert self.snapshots is not None
        if not isinstance(snapshot_id, str):
            raise CommandError(f"params.event_snapshot must be a snapshot id string, got {snapshot_id!r}")
        try:
            jpeg = self.snapshots.get(snapshot_id, wait_s=SNAPSHOT_WAIT_S)
        except ValueError as exc:  # a malformed id: the request's fault, not a handler bug
            raise CommandError(f"params.event_snapshot: {exc}") from None
        if jpeg is None:
            raise CommandError(f"no stored snapshot {snapshot_id!r} (evicted or never taken)")
        return jpeg

    def _changed(self) -> None:
        if self.on_calibration is not None:
            self.on_calibration()

    def _plate(self, params: dict[str, Any], required: bool) -> str | None:
        if "plate" not in params and not required:
            return None  # only an absent key means every plate: a null or a typo must not
        plate = params.get("plate")
        names = list(self.plates)
        if plate not in names:
            every = "" if required else "; leave it out for every plate"
            raise CommandError(f"params.plate must be one of {names}{every}, got {plate!r}")
        return str(plate)


def parse_points(raw: Any) -> list[tuple[float, float]]:
    """`[[reading_g, known_g], ...]` from a request, as float pairs; CommandError naming the bad point."""
    if not isinstance(raw, list) or not raw:
        raise CommandError("params.points must be a non-empty list of [reading_g, known_g] pairs")
    points = []
    for item in raw:
        ok = isinstance(item, list) and len(item) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in item)
        if not ok:
            raise CommandError(f"params.points: each point must be [reading_g, known_g] numbers, got {item!r}")
        points.append((float(item[0]), float(item[1])))
    return points


@dataclass(frozen=True, slots=True)
class CommandSets:
    """Several command sets registered as one (the control socket takes one: the node's and the gallery's)."""

    sets: tuple[Any, ...]  # each with register(registry)

    def register(self, registry: CommandTable) -> None:
        for commands in self.sets:
            commands.register(registry)
