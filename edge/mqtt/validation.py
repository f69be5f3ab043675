"""The JSON Schemas of the contract (edge/mqtt/schemas/*.json), loaded once, used by tests and the hub."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_FILES = {
    "event": "event.json",
    "status": "status.json",
    "birth": "birth.json",
    "stats": "stats.json",
    "resp": "resp.json",
    "weights": "weights.json",
    "planogram": "planogram.json",
}


@cache
def validator(name: str) -> Draft202012Validator:
    """Validator for one payload kind; raises KeyError for an unknown name."""
    text = resources.files("edge.mqtt.schemas").joinpath(SCHEMA_FILES[name]).read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_document(name: str) -> dict[str, Any]:
    return dict(validator(name).schema)


def problems(name: str, payload: Any) -> list[str]:
    """Every way `payload` breaks schema `name`, one line each (`path: message`); [] = valid."""
    lines = []
    for error in sorted(validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "<root>"
        lines.append(f"{path}: {error.message[:200]}")
    return lines
