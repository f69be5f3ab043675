"""Read a TOML config file, validate it, and explain every problem with its key path."""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from edge.config.messages import CONFIG_DOCS, describe_validation_error
from edge.config.root import NodeConfig
from edge.errors import ConfigError

DEFAULT_PATH = Path("/etc/shelf-node/config.toml")
Model = TypeVar("Model", bound=BaseModel)


def load_config(path: str | Path = DEFAULT_PATH) -> NodeConfig:
    """Load and validate `path`. Raises ConfigError with one line per problem."""
    return load_toml_model(path, NodeConfig, "pass --config FILE or create it from config/example-node.toml")


def parse_config(text: str, source: str = "<config>") -> NodeConfig:
    return parse_toml_model(text, NodeConfig, source)


def load_toml_model(path: str | Path, model: type[Model], if_missing: str, docs: str = CONFIG_DOCS) -> Model:
    """Read a TOML file into `model`; ConfigError naming the file (and what to do if it is missing).

    `docs` is the document that lists the file's keys; unknown-key and missing-key messages point there.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; {if_missing}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}; check the path and its permissions") from None
    return parse_toml_model(text, model, source=str(path), docs=docs)


def parse_toml_model(text: str, model: type[Model], source: str, docs: str = CONFIG_DOCS) -> Model:
    """Validate TOML text against `model`: one ConfigError line per problem, each with its key path."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}; fix the syntax there (strings need quotes)") from None
    except RecursionError:  # a few KB of '[' (garbage, not a config): words, not a traceback
        raise ConfigError(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # int() refuses an integer this long, with advice for Python programmers
        raise ConfigError(f"{source}: not valid TOML: a number with more than {sys.get_int_max_str_digits()} "
                          "digits") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{source}: {line}" for line in describe_validation_error(exc, model=model, docs=docs)]
        summary = problems[0] if len(problems) == 1 else f"{source}: {len(problems)} problems"
        raise ConfigError(summary, problems) from None


def config_digest(config: NodeConfig) -> str:
    """Stable sha256 of the effective configuration (after defaults), for birth and capture headers."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
