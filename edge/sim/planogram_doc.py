"""A scenario's catalogue and planogram as a planogram v2 document.

The node (fusion) gets the planogram the simulated shelf was stocked from; a scenario may also
be stocked *from* a planogram file (`planogram_file = "FILE.json"` in the scenario TOML, read by
edge/sim/planogram_file.py), so one document drives both the shelf and the node. The document
format is edge/planogram.py's (v2, docs/planogram.md).
"""

from __future__ import annotations

from typing import Any

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
