"""One human line per HubRecord (`shelf-node hub watch` without --json). Missing values print as `-`."""

from __future__ import annotations

from typing import Any

from edge.fusion.encode import describe_item_body
from edge.hub.tracker import HubRecord


def value(v: Any) -> str:
    """`-` for a missing value, short floats, everything else as str."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def grams(v: Any) -> str:
    return "-" if v is None else f"{v:+.1f} g" if isinstance(v, int | float) else value(v)


def human_line(record: HubRecord) -> str:
    who = f"{record.store}/{record.node}"
    note = f"  [{record.note}]" if record.note else ""
    if not record.valid:
        return f"INVALID {record.type:7} {who}: {'; '.join(record.problems)[:300]}{note}"
    payload: Any = record.payload if isinstance(record.payload, dict) else {}
    head = f"{value(payload.get('ts'))} {who} {record.type}"
    if record.payload is None:
        return f"{head}{note}"
    render = _DETAIL.get(record.type)
    detail = render(payload) if render is not None else ""
    return f"{head}{' ' + detail if detail else ''}{note}"


def _event(payload: dict[str, Any]) -> str:
    body = payload.get("body") or {}
    hist = " historical" if payload.get("historical") else ""
    head = f"seq={value(payload.get('seq'))} session={value(payload.get('session'))}{hist} {value(payload.get('kind'))}"
    if payload.get("kind") == "weight":
        deltas = body.get("plate_deltas_g") or {}
        per_plate = " ".join(f"{plate}={grams(g)}" for plate, g in deltas.items())
        flags = ",".join(body.get("flags") or []) or "-"
        return (f"{head} {grams(body.get('delta_g'))} ({per_plate or '-'}) quality={value(body.get('quality'))} "
                f"flags={flags}")
    if payload.get("kind") == "item":
        refs = ",".join(value(ref.get("seq")) for ref in body.get("weight_events") or [] if isinstance(ref, dict))
        return f"{head} {describe_item_body(body)} weight_seq={refs or '-'}"
    return head


def _weights(payload: dict[str, Any]) -> str:
    plates = payload.get("plates") or {}
    return " ".join(f"{plate}={value(g)}" for plate, g in plates.items()) or "-"


def _resp(payload: dict[str, Any]) -> str:
    transaction = f"transaction={value(payload.get('transaction'))}"
    if payload.get("ok"):
        return f"{value(payload.get('command'))} ok {transaction}"
    error = payload.get("error") or {}
    return (f"{value(payload.get('command'))} error {value(error.get('code'))}: {value(error.get('message'))} "
            f"{transaction}")


def _status(payload: dict[str, Any]) -> str:
    return f"{value(payload.get('state'))} session={value(payload.get('session'))}{_health(payload)}"


def _health(payload: dict[str, Any]) -> str:
    health = payload.get("health")
    if not isinstance(health, dict):
        return ""
    reasons = "; ".join(str(r) for r in health.get("reasons") or [])
    return f" health={value(health.get('state'))}" + (f" ({reasons})" if reasons else "")


def _stats(payload: dict[str, Any]) -> str:
    outbox = payload.get("outbox") or {}
    mqtt = payload.get("mqtt") or {}
    return (f"outbox depth={value(outbox.get('depth'))} lost={value(outbox.get('lost'))} "
            f"healthy={value(outbox.get('healthy'))} mqtt reconnects={value(mqtt.get('reconnects'))}{_health(payload)}")


def _birth(payload: dict[str, Any]) -> str:
    plates = ",".join(str(p.get("name")) for p in payload.get("plates") or [] if isinstance(p, dict)) or "-"
    return f"session={value(payload.get('session'))} version={value(payload.get('software_version'))} plates={plates}"


def _planogram(payload: dict[str, Any]) -> str:
    return f"{value(payload.get('id'))} v{value(payload.get('version'))}"


_DETAIL = {"event": _event, "weights": _weights, "resp": _resp, "status": _status, "stats": _stats,
           "birth": _birth, "planogram": _planogram}
