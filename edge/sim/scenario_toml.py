"""Write a scenario as a TOML file that `load_scenario` reads back to the same scenario.

Used by `shelf-node sim generate`: generate from a seed, then edit the file by hand.
"""

from __future__ import annotations

import json
from typing import Any

from edge.sim.scenario import Scenario


def scenario_to_toml(scenario: Scenario) -> str:
    data = scenario.model_dump(exclude_none=True, exclude_defaults=False)
    lines = [f"# shelf simulator scenario (docs/simulator.md); {len(scenario.actions)} actions"]
    for key in ("name", "seed", "duration_s", "planogram_id"):
        if key in data and (key != "planogram_id" or data[key] != "sim"):
            lines.append(f"{key} = {_value(data[key])}")
    if scenario.physics:
        lines += ["", "[physics]"] + [f"{k} = {_value(v)}" for k, v in scenario.physics.items()]
    if scenario.calibration is not None:
        lines += ["", "[calibration]"]
        lines += [f"{k} = {_value(v)}" for k, v in scenario.calibration.model_dump(exclude_none=True).items()]
    if scenario.shelf is not None:
        lines += ["", "[shelf]", f"channels = {scenario.shelf.channels}", "plates = ["]
        lines += [f"    {{ name = {_value(p.name)}, channels = {_value(p.channels)} }}," for p in scenario.shelf.plates]
        lines.append("]")
    for table in ("items", "planogram", "actions"):
        defaults = _defaults(table)
        for row in data.get(table, []):
            lines += ["", f"[[{table}]]"]
            for key, value in row.items():
                if key in ("at", "kind", "plate", "sku", "unit_g") or value != defaults.get(key, object()):
                    lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _defaults(table: str) -> dict[str, Any]:
    from pydantic import BaseModel

    from edge.sim.scenario import Action, Item, Slot

    models: dict[str, type[BaseModel]] = {"items": Item, "planogram": Slot, "actions": Action}
    model = models[table]
    return {name: field.default for name, field in model.model_fields.items() if not field.is_required()}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is a JSON string for the text we write
