"""Render the configuration reference (docs/config.md) from the models themselves, so it cannot drift.

    python -m edge.config.reference > docs/config.md
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from edge.config.root import NodeConfig

INTRO = """# Configuration reference

One TOML file: `/etc/shelf-node/config.toml` in production, `--config FILE` (or `$SHELF_NODE_CONFIG`)
to override. It is validated at start; unknown keys are refused, and each problem is reported on its
own line as `FILE: key.path: what is wrong (got VALUE)`. `shelf-node config check FILE` prints the
same and exits 2 on a bad file. Examples: `config/example-node.toml` (real node), `config/sim-node.toml`
(simulated shelf).

Secrets are never inline: `password = "file:/etc/shelf-node/secrets/mqtt-password"` reads a file, and
`password = "credential:mqtt-password"` reads `$CREDENTIALS_DIRECTORY/mqtt-password` (systemd
`LoadCredential=`). Anything else is refused.

This reference is generated from the models (`python -m edge.config.reference > docs/config.md`);
a test fails when it is out of date.
"""


def render() -> str:
    out = [INTRO]
    _section(out, "", NodeConfig, top=True)
    return "\n".join(out).rstrip() + "\n"


def _section(out: list[str], path: str, model: type[BaseModel], top: bool = False) -> None:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        sub = _model_of(field.annotation)
        if sub is not None:
            array = typing.get_origin(field.annotation) is list
            nested.append((f"{key}" if not array else f"{key}[]", sub))
            continue
        default = "**required**" if field.is_required() else f"`{_default(field.default)}`"
        rows.append(f"| `{name}` | {_type_name(field.annotation)} | {default} | {field.description or ''} |")
    if not top:
        title = f"[[{path[:-2]}]]" if path.endswith("[]") else f"[{path}]"
        doc = (model.__doc__ or "").strip().split("\n")[0] if model.__doc__ else ""
        out.append(f"## `{title}`\n")
        if doc and not doc.startswith("Base model") and "Owner" not in doc:
            out.append(doc + "\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        out.extend(rows)
        out.append("")
    for key, sub in nested:
        _section(out, key, sub)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in typing.get_args(candidate):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return " / ".join(f"`{json.dumps(a)}`" for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in typing.get_args(annotation)) + "]"
    if annotation is type(None):
        return "none"
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "Path": "path"}.get(
        getattr(annotation, "__name__", str(annotation)), getattr(annotation, "__name__", str(annotation)))


def _default(value: Any) -> str:
    if value is PydanticUndefined:
        return ""
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "see below"
    return json.dumps(value, default=str)


if __name__ == "__main__":
    print(render(), end="")
