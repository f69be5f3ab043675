"""The other way from edge/sim/planogram_doc.py: a scenario stocked from a planogram v2 document.

`planogram_file = "FILE.json"` in a scenario TOML (relative to the scenario) stands for the scenario's
[[items]] and [[planogram]]; edge/sim/scenario.py's `load_scenario` calls `merge_planogram_file` on the
raw TOML table before validating it. This module reads only the fields the simulator needs of the
document (edge/planogram.py's format, docs/planogram.md) and imports nothing of the scenario, so
scenario.py imports it and planogram_doc.py imports scenario.py, one way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.errors import ConfigError


def merge_planogram_file(raw: dict[str, Any], scenario_path: Path) -> dict[str, Any]:
    """Replace `planogram_file` in a raw scenario table by the [[items]] / [[planogram]] it names."""
    name = raw.pop("planogram_file", None)
    if name is None:
        return raw
    if "items" in raw or "planogram" in raw:
        raise ConfigError(f"{scenario_path}: give planogram_file or [[items]] + [[planogram]], not both")
    path = (scenario_path.parent / str(name)).resolve()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        catalogue, plates = document["catalogue"], document["plates"]
        items = [
            {
                "sku": entry["sku"],
                "unit_g": float(entry["unit_weight_g"]),
                "variation": float(entry.get("unit_sigma_g", 0.0)) / float(entry["unit_weight_g"]),
                "name": entry.get("name"),
                "labels": list(entry.get("labels", [])),
            }
            for entry in catalogue
        ]
        slots = [
            {"plate": plate, "sku": entry["sku"], **({"stock": int(entry["stock"])} if "stock" in entry else {})}
            for plate, entries in plates.items()
            for entry in entries
        ]
    except FileNotFoundError:
        raise ConfigError(f"{scenario_path}: planogram_file {path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{scenario_path}: planogram_file {path} is not a planogram v2 document ({exc!r}); "
            "check it with `shelf-node planogram check FILE`"
        ) from None
    return {**raw, "items": items, "planogram": slots, "planogram_id": str(document.get("id", raw.get("name", "sim")))}
