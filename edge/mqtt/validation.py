"""One validator for the contract, used alike by the node (commands), the hub watcher and the tests.

`parse_json` is strict JSON: it refuses NaN and Infinity, which Python's json module accepts but
no other JSON reader does (the node itself never sends them). `problems` checks a payload against
its JSON Schema (edge/mqtt/schemas/*.json, loaded once); `planogram_problems` runs the very parser
the node applies (`edge.planogram.parse_planogram`: size bound, format 1 conversion, model, plates),
so a document the node would refuse is never called valid by the hub.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from edge.errors import ConfigError
from edge.planogram import parse_planogram

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


MAX_INT_DIGITS = 4300  # Python's own int() limit, said in JSON words


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; send a finite number or null")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:  # int() would refuse it with advice for Python programmers
        raise ValueError(f"a number of {len(text.lstrip('-'))} digits is out of range for a JSON number")
    return int(text)


def parse_json(payload: bytes | str) -> Any:
    """Strict JSON (no NaN/Infinity, no 1e999, no 5000-digit integers, no nesting beyond Python's stack).
    Raises ValueError (UnicodeDecodeError, JSONDecodeError, range, depth)."""
    try:
        return json.loads(payload, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_integer)
    except RecursionError:
        # a few KB of '[' is enough; uncaught, it left a command unanswered and killed hub watch's thread
        raise ValueError("arrays or objects nested too deeply") from None


def problems(name: str, payload: Any) -> list[str]:
    """Every way `payload` breaks the contract for `name`, one line each (`path: message`); [] = valid."""
    lines = []
    for error in sorted(validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "<root>"
        lines.append(f"{path}: {error.message[:200]}")
    return lines


def planogram_problems(payload: bytes, plate_names: Iterable[str] | None) -> list[str]:
    """What the node's own parser says of this planogram; `plate_names` None = the document's own plates."""
    try:
        document = parse_json(payload)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if plate_names is None:
        plates = document.get("plates") if isinstance(document, dict) else None
        plate_names = list(plates) if isinstance(plates, dict) else []
    try:
        parse_planogram(payload, plate_names)
    except ConfigError as exc:
        return list(exc.problems)
    return []
