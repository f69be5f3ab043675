"""Write real node config files (TOML) for the MQTT tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.config import NodeConfig
from edge.config.loader import load_config

STORE, NODE = "store1", "node7"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return json.dumps(str(value))
    return json.dumps(value)


def write_config(tmp_path: Path, port: int, mqtt: dict[str, Any] | None = None,
                 outbox: dict[str, Any] | None = None, tls: dict[str, Any] | None = None,
                 name: str = "node.toml") -> Path:
    """A two-plate node talking to 127.0.0.1:port; fast reconnects and stats for tests."""
    settings = {"host": "127.0.0.1", "port": port, "reconnect_min_s": 0.1, "reconnect_max_s": 0.5,
                "stats_interval_s": 1.0, **(mqtt or {})}
    lines = ["[node]", f'store_id = "{STORE}"', f'node_id = "{NODE}"', f"state_dir = {_toml_value(tmp_path / 'state')}",
             "", "[serial]", 'port = "loop://"', "channels = 4", "",
             "[[plates]]", 'name = "p1"', "channels = [0, 1]", "", "[[plates]]", 'name = "p2"', "channels = [2, 3]",
             "", "[mqtt]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    if tls:
        lines += ["", "[mqtt.tls]"] + [f"{key} = {_toml_value(value)}" for key, value in tls.items()]
    if outbox:
        lines += ["", "[outbox]"] + [f"{key} = {_toml_value(value)}" for key, value in outbox.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def node_config(tmp_path: Path, port: int, **kwargs: Any) -> NodeConfig:
    return load_config(write_config(tmp_path, port, **kwargs))
