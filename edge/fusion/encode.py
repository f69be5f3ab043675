"""The `events` body for kind "item" (edge/mqtt/schemas/event.json, docs/mqtt.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edge.model import ItemEvent, ItemLine


def item_event_to_dict(item: ItemEvent) -> dict[str, Any]:
    return {
        "action": item.action,
        "lines": [_line(line) for line in item.lines],
        "misplaced": item.misplaced,
        "confidence": round(item.confidence, 6),
        "review": {"required": item.review_required, "reasons": list(item.review_reasons)},
        "alternatives": [{"action": alt.action, "lines": [_line(line) for line in alt.lines],
                          "probability": round(alt.probability, 6), "misplaced": alt.misplaced}
                         for alt in item.alternatives],
        "t_start_unix": round(item.t_start, 6),
        "t_start_iso": _iso_utc(item.t_start),
        "t_end_unix": round(item.t_end, 6),
        "t_end_iso": _iso_utc(item.t_end),
        "weight_events": [{"event_id": ref.event_id, "seq": ref.seq} for ref in item.weight_events],
        "evidence": {
            "plates": {c.plate: {"delta_g": round(c.delta_g, 3), "sigma_g": round(c.sigma_g, 3)}
                       for c in item.changes},
            "residual_g": round(item.residual_g, 3),
            "quality": item.quality,
            "flags": list(item.flags),
            "trace_g": _trace(item),
            "vision": dict(item.vision),
            "snapshot": item.snapshot,
        },
        "stock": {plate: dict(skus) for plate, skus in item.stock.items()},
    }


def _trace(item: ItemEvent) -> dict[str, list[list[float]]] | None:
    """Per plate, [seconds from t_start, grams] of the weigher's trace excerpt (docs/mqtt.md), or None."""
    if not item.trace:
        return None
    return {t.plate: [[round(at - item.t_start, 3), round(g, 1)] for at, g in t.points] for t in item.trace}


def _line(line: ItemLine) -> dict[str, Any]:
    out: dict[str, Any] = {"sku": line.sku, "count": line.count, "plate": line.plate}
    if line.plates:
        out["plates"] = list(line.plates)
    return out


def _iso_utc(t: float) -> str:
    """As edge.weighing.events.iso_utc (not imported: that would load the whole weigher into fusion)."""
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def describe_item(item: ItemEvent) -> str:
    """One line for logs and the demo: `pick 1 x gum-pack p3 (0.998)`, with the review reasons if flagged."""
    what = ", ".join(f"{line.count} x {line.sku} {'+'.join(line.plates) or line.plate}" for line in item.lines)
    if not what:
        what = f"{sum(c.delta_g for c in item.changes):+.1f} g on {'+'.join(c.plate for c in item.changes)}"
    text = f"{item.action} {what} ({item.confidence:.3f})"
    if item.misplaced:
        text += " misplaced"
    if item.review_required:
        text += f" REVIEW: {', '.join(item.review_reasons)}"
    return text


def describe_item_body(body: dict[str, Any]) -> str:
    """describe_item for a received `item` body (the hub side, the demo)."""
    lines = body.get("lines") or []
    what = ", ".join(f"{line.get('count')} x {line.get('sku')} "
                     f"{'+'.join(line.get('plates') or []) or line.get('plate')}" for line in lines)
    if not what:
        plates = (body.get("evidence") or {}).get("plates") or {}
        what = f"{sum(p.get('delta_g', 0.0) for p in plates.values()):+.1f} g on {'+'.join(plates)}"
    text = f"{body.get('action')} {what} ({float(body.get('confidence', 0.0)):.3f})"
    if body.get("misplaced"):
        text += " misplaced"
    review = body.get("review") or {}
    if review.get("required"):
        text += f" REVIEW: {', '.join(review.get('reasons') or [])}"
    return text
