"""One validator for the contract, used alike by the node (commands), the hub watcher and the tests.

`parse_json` is strict JSON: it refuses NaN and Infinity, which Python's json module accepts but
no other JSON reader does (the node itself never sends them). `problems` checks a payload against
its JSON Schema (edge/mqtt/schemas/*.json, loaded once) and, for the planogram, against the same
model the node applies (`edge.planogram.Planogram`), so a document the node would refuse is never
called valid by the hub.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from edge.config.loader import describe_validation_error
from edge.planogram import Planogram

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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; send a finite number or null")


def parse_json(payload: bytes | str) -> Any:
    """Strict JSON (no NaN/Infinity). Raises ValueError (UnicodeDecodeError, JSONDecodeError or the NaN one)."""
    return json.loads(payload, parse_constant=_refuse_constant)


def problems(name: str, payload: Any) -> list[str]:
    """Every way `payload` breaks the contract for `name`, one line each (`path: message`); [] = valid."""
    lines = []
    for error in sorted(validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "<root>"
        lines.append(f"{path}: {error.message[:200]}")
    if name == "planogram" and not lines:
        try:
            Planogram.model_validate(payload)
        except ValidationError as exc:
            lines = describe_validation_error(exc)
    return lines
