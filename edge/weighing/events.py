"""WeightEvent <-> JSON-safe dict (the form replay writes and the MQTT layer embeds).

Times are given twice: `*_unix` = unix seconds (float, the host clock that stamped the frames)
and `*_iso` = the same instant in ISO 8601 UTC with milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edge.model import WeightEvent


def iso_utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def weight_event_to_dict(event: WeightEvent) -> dict[str, Any]:
    return {
        "t_start_unix": round(event.t_start, 6),
        "t_start_iso": iso_utc(event.t_start),
        "t_end_unix": round(event.t_end, 6),
        "t_end_iso": iso_utc(event.t_end),
        "plates": sorted(event.plate_deltas),
        "plate_deltas_g": {name: round(value, 3) for name, value in sorted(event.plate_deltas.items())},
        "delta_g": round(event.delta_g, 3),
        "sigma_g": round(event.sigma_g, 3),
        "quality": event.quality,
        "flags": list(event.flags),
    }
