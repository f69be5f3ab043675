"""Payloads the node publishes: every one carries `schema: {name, version}` (see docs/mqtt.md).

The event envelope is fixed at append time except `session` (the MQTT connection that carried
it) and `historical` (true when it was produced before that connection came up, i.e. it is a
backlog replay after an outage); `event_id`, `seq`, `ts` and `body` never change across retries.
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

from edge.outbox.store import OutboxRow

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA_NAMES = ("event", "status", "birth", "stats", "resp", "weights", "planogram")


def schema_tag(name: str) -> dict[str, Any]:
    return {"name": f"shelf-node/{name}", "version": SCHEMA_VERSION}


def iso_ms(t: float) -> str:
    """Unix seconds -> ISO 8601 UTC with milliseconds, e.g. 2026-11-24T18:00:00.123Z."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_payload(row: OutboxRow, store: str, node: str, session: int, historical: bool) -> dict[str, Any]:
    return {
        "schema": schema_tag("event"),
        "event_id": row.event_id,
        "store": store,
        "node": node,
        "session": session,
        "seq": row.seq,
        "ts": iso_ms(row.produced_at),
        "historical": historical,
        "kind": row.kind,
        "body": row.body,
    }


def status_payload(state: str, session: int, now: float | None = None) -> dict[str, Any]:
    return {"schema": schema_tag("status"), "state": state, "session": session, "ts": iso_ms(now or time.time())}


def stamp(name: str, body: dict[str, Any], session: int, now: float | None = None) -> dict[str, Any]:
    """Add schema, session and ts to a dict supplied by the node (birth, stats)."""
    return {**body, "schema": schema_tag(name), "session": session, "ts": iso_ms(now or time.time())}


def response_payload(transaction: str | int | None, command: str, result: dict[str, Any] | None = None,
                     error: tuple[str, str] | None = None) -> dict[str, Any]:
    """`error` is (code, message); exactly one of result/error is set."""
    return {
        "schema": schema_tag("resp"),
        "transaction": transaction,
        "command": command,
        "ok": error is None,
        "result": result if error is None else None,
        "error": None if error is None else {"code": error[0], "message": error[1]},
        "ts": iso_ms(time.time()),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """Strict JSON. A NaN or infinity that a part put into stats or a response becomes null (and is logged
    with its place) rather than an exception that would drop the connection or the response."""
    try:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False, default=str).encode()
    except ValueError:
        places: list[str] = []
        cleaned = _finite(payload, "", places)
        log.warning("non-finite number(s) sent as null at %s", ", ".join(places[:10]) or "?")
        return json.dumps(cleaned, separators=(",", ":"), allow_nan=False, default=str).encode()


def _finite(value: Any, where: str, places: list[str]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        places.append(where or "<root>")
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{where}/{k}", places) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{where}/{i}", places) for i, v in enumerate(value)]
    return value
