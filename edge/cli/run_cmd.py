"""`shelf-node run`: the daemon (systemd runs this; so does ./scripts/demo)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from edge.cli.common import config_option, fail, load_or_fail
from edge.errors import ShelfNodeError


@click.command()
@config_option
@click.option("--record", "record_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Also record every serial line to this capture file (for replay).")
@click.option("--socket", "socket_path", type=click.Path(dir_okay=False, path_type=Path), envvar="SHELF_NODE_SOCKET",
              help="Serve the control socket here (default under systemd: $RUNTIME_DIRECTORY/control.sock; "
                   "otherwise none). docs/control-socket.md")
def run(config_path: Path, record_to: Path | None, socket_path: Path | None) -> None:
    """Run the node: serial -> weighing (-> vision) -> outbox -> MQTT, until SIGTERM or Ctrl-C."""
    config = load_or_fail(config_path)
    from edge.daemon import run_until_signalled
    from edge.node import Node

    try:
        node = Node(config, record_to=record_to, control_socket=socket_path or _runtime_socket(),
                    config_path=config_path)
    except ShelfNodeError as exc:
        fail(f"cannot start: {exc}")
    raise SystemExit(run_until_signalled(node))


def _runtime_socket() -> Path | None:
    """systemd's RuntimeDirectory= (the unit's /run/shelf-node), where the technician CLI looks."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / "control.sock" if runtime else None
