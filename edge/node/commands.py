"""The node's own MQTT commands (the link provides rebirth, stats and config):

    tare       {"plate": "p1"} or {} for every plate          changes state
    calibrate  {"plate": "p1", "known_g": 500}                changes state
               or {"plate": "p1", "points": [[reading_g, known_g], ...]}
    weights    {}  current grams and stability per plate      read-only
    snapshot   {"event_snapshot": "<id>"} -> that stored JPEG, or {} -> a fresh annotated frame;
               returned base64-encoded                       read-only
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from edge.errors import CommandError

if TYPE_CHECKING:
    from edge.mqtt.commands import CommandRegistry
    from edge.node.node import Node

MAX_SNAPSHOT_BYTES = 4_000_000


def register_node_commands(registry: CommandRegistry, node: Node) -> None:
    registry.register("tare", lambda p: _tare(node, p), changes_state=True,
                      description="Zero one plate ({'plate': name}) or all plates ({}); refused while moving.")
    registry.register("calibrate", lambda p: _calibrate(node, p), changes_state=True,
                      description="Fit a plate to known weights: {'plate', 'known_g'} or {'plate', 'points'}.")
    registry.register("weights", lambda p: _weights(node), changes_state=False,
                      description="Current grams, stability and noise per plate.")
    registry.register("snapshot", lambda p: _snapshot(node, p), changes_state=False,
                      description="A stored event snapshot by id, or a fresh annotated camera frame (base64 JPEG).")


def _plate(node: Node, params: dict[str, Any], required: bool) -> str | None:
    plate = params.get("plate")
    if plate is None and not required:
        return None
    names = node.config.plate_names()
    if plate not in names:
        raise CommandError(f"params.plate must be one of {names}, got {plate!r}")
    return str(plate)


def _tare(node: Node, params: dict[str, Any]) -> dict[str, Any]:
    removed = node.weigher.tare(_plate(node, params, required=False))
    return {"tared": {name: round(grams, 3) for name, grams in removed.items()}}


def _calibrate(node: Node, params: dict[str, Any]) -> dict[str, Any]:
    plate = _plate(node, params, required=True)
    assert plate is not None
    if "points" in params:
        points = _points(params["points"])
    elif "known_g" in params:
        known = params["known_g"]
        if not isinstance(known, int | float) or isinstance(known, bool):
            raise CommandError(f"params.known_g must be a number of grams, got {known!r}")
        points = [(node.weigher.stable_reading(plate), float(known))]
    else:
        raise CommandError("params needs 'known_g' (weight now on the tared plate) or 'points' [[reading, known]]")
    residual = node.weigher.calibrate(plate, points)
    return {"plate": plate, "points": len(points), "residual_g": round(residual, 4)}


def _points(raw: Any) -> list[tuple[float, float]]:
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


def _weights(node: Node) -> dict[str, Any]:
    status = node.weigher.status()
    return {"shelf_stable": status["shelf_stable"], "plates": {
        name: {key: plate[key] for key in ("grams", "stable", "noise_sigma_g", "faulty_channels")}
        for name, plate in status["plates"].items()}}


def _snapshot(node: Node, params: dict[str, Any]) -> dict[str, Any]:
    if node.vision is None:
        raise CommandError("this node has no [camera] configured, so there are no snapshots")
    snapshot_id = params.get("event_snapshot")
    if snapshot_id is not None:
        if not isinstance(snapshot_id, str):
            raise CommandError(f"params.event_snapshot must be a snapshot id string, got {snapshot_id!r}")
        jpeg = node.vision.snapshots.get(snapshot_id)
        if jpeg is None:
            raise CommandError(f"no stored snapshot {snapshot_id!r} (evicted or never taken)")
    else:
        jpeg = node.vision.snapshot(annotate=True)
    if len(jpeg) > MAX_SNAPSHOT_BYTES:
        raise CommandError(f"snapshot is {len(jpeg)} bytes, over the {MAX_SNAPSHOT_BYTES} byte response limit")
    return {"id": snapshot_id, "jpeg_base64": base64.b64encode(jpeg).decode("ascii"), "bytes": len(jpeg)}
