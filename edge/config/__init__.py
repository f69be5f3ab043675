"""Typed configuration: one pydantic model per TOML section, unknown keys refused.

`load_config(path)` returns a frozen `NodeConfig` or raises `ConfigError` whose `problems`
name file, key path, value and what is allowed. Sections live one per module.
"""

from edge.config.loader import DEFAULT_PATH, config_digest, load_config, parse_config
from edge.config.root import NodeConfig

__all__ = ["DEFAULT_PATH", "NodeConfig", "config_digest", "load_config", "parse_config"]
