"""Read a TOML config file, validate it, and explain every problem with its key path."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edge.config.root import NodeConfig
from edge.errors import ConfigError

DEFAULT_PATH = Path("/etc/shelf-node/config.toml")
Model = TypeVar("Model", bound=BaseModel)


def load_config(path: str | Path = DEFAULT_PATH) -> NodeConfig:
    """Load and validate `path`. Raises ConfigError with one line per problem."""
    return load_toml_model(path, NodeConfig, "pass --config FILE or create it from config/example-node.toml")


def parse_config(text: str, source: str = "<config>") -> NodeConfig:
    return parse_toml_model(text, NodeConfig, source)


def load_toml_model(path: str | Path, model: type[Model], if_missing: str) -> Model:
    """Read a TOML file into `model`; ConfigError naming the file (and what to do if it is missing)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; {if_missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_toml_model(text, model, source=str(path))


def parse_toml_model(text: str, model: type[Model], source: str) -> Model:
    """Validate TOML text against `model`: one ConfigError line per problem, each with its key path."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{source}: {line}" for line in describe_validation_error(exc)]
        summary = problems[0] if len(problems) == 1 else f"{source}: {len(problems)} problems"
        raise ConfigError(summary, problems) from None


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One line per error: `key.path: what is wrong (got VALUE)`."""
    lines = []
    for error in exc.errors(include_url=False):
        key = _key_path(error["loc"])
        kind = error["type"]
        message = error["msg"]
        if kind == "extra_forbidden":
            message = "unknown key; remove it or check its spelling (see docs/config.md)"
        elif kind == "missing":
            message = "required key is missing"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        got = "" if kind in {"missing", "extra_forbidden"} else f" (got {_short(error.get('input'))})"
        if kind == "extra_forbidden":
            got = f" (value {_short(error.get('input'))})"
        lines.append(f"{key or '<top level>'}: {message}{got}")
    return lines


def config_digest(config: NodeConfig) -> str:
    """Stable sha256 of the effective configuration (after defaults), for birth and capture headers."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
