"""A scenario's catalogue and planogram as a planogram v2 document, and back.

The node (fusion) gets the planogram the simulated shelf was stocked from; a scenario may also
be stocked *from* a planogram file (`planogram_file = "FILE.json"` in the scenario TOML), so one
document drives both the shelf and the node. The document format is edge/planogram.py's (v2,
docs/planogram.md); this module reads only the fields the simulator needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.sim.scenario import Scenario

SPREAD_FLOOR_G = 0.5  # a unit spread of 0 g would make the node's weight likelihood a spike


def planogram_document(scenario: Scenario, version: int = 1) -> dict[str, Any]:
    """The planogram v2 document for this scenario's shelf (catalogue + plates with start stock)."""
    plates: dict[str, list[dict[str, Any]]] = {}
    for slot in scenario.planogram:
        plates.setdefault(slot.plate, []).append({"sku": slot.sku, "stock": slot.stock, "facings": 1})
    catalogue = [
        {
            "sku": item.sku,
            "name": item.name or item.sku,
            "unit_weight_g": round(item.unit_g, 3),
            "unit_sigma_g": round(max(item.unit_g * item.variation, SPREAD_FLOOR_G), 3),
            "labels": list(item.labels),
        }
        for item in scenario.items
    ]
    return {"format": 2, "id": scenario.planogram_id, "version": version, "catalogue": catalogue, "plates": plates}


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
