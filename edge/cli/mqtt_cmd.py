"""`shelf-node mqtt check`: connect with the node's settings and say in plain words what fails."""

from __future__ import annotations

import os
from pathlib import Path

import click

from edge.cli.common import config_option, emit, json_option, load_or_fail, table

SYSTEM_SECRETS = Path("/etc/shelf-node/secrets")  # what the unit's LoadCredential= reads


@click.group()
def mqtt() -> None:
    """The node's broker connection."""


@mqtt.command()
@config_option
@json_option
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.5, 120), default=10.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--credentials", "credentials", type=click.Path(file_okay=False, path_type=Path),
              help="Where 'credential:NAME' secrets are, outside systemd (default $CREDENTIALS_DIRECTORY, "
                   "else /etc/shelf-node/secrets).")
def check(config_path: Path, as_json: bool, timeout_s: float, credentials: Path | None) -> None:
    """DNS, TCP, TLS, login, then a message round-tripped on <prefix>/<store>/<node>/check. Exit 0 if all pass."""
    config = load_or_fail(config_path)
    if credentials is not None:
        os.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    elif "CREDENTIALS_DIRECTORY" not in os.environ and SYSTEM_SECRETS.is_dir():
        os.environ["CREDENTIALS_DIRECTORY"] = str(SYSTEM_SECRETS)
    from edge.cli.mqtt_check import check_broker

    steps = check_broker(config, timeout_s)
    ok = all(step.ok for step in steps)
    emit({"ok": ok, "broker": f"{config.mqtt.host}:{config.mqtt.port}", "steps": [s.to_json() for s in steps]},
         as_json, lambda data: _render(data))
    raise SystemExit(0 if ok else 1)


def _render(data: dict[str, object]) -> str:
    steps = data["steps"]
    assert isinstance(steps, list)
    rows = [(s["name"], "pass" if s["ok"] else "FAIL", s["detail"]) for s in steps]
    lines = [table(["step", "result", "detail"], rows)]
    lines += [f"fix: {s['fix']}" for s in steps if not s["ok"] and s["fix"]]
    lines.append(f"broker {data['broker']}: {'OK' if data['ok'] else 'NOT OK'}")
    return "\n".join(lines)
