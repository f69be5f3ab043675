"""What the commands that talk to the running daemon share: the --socket option, one request, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import fail
from edge.control.client import SOCKET_ENV, ControlClient, DaemonNotRunning, default_socket
from edge.control.protocol import ControlError

NOT_RUNNING_EXIT = 3  # distinct from 1 (a refusal) so scripts can tell "stopped" from "said no"

socket_option = click.option(
    "--socket", "socket_path", type=click.Path(dir_okay=False, path_type=Path), default=None, envvar=SOCKET_ENV,
    help="The daemon's control socket [default: /run/shelf-node/control.sock].",
)


def ask(socket_path: Path | None, cmd: str, args: dict[str, Any] | None = None) -> Any:
    """The daemon's answer to one request, or a one-line error and exit (3 when the daemon is not running)."""
    try:
        with ControlClient(socket_path) as client:
            return client.request(cmd, args)
    except DaemonNotRunning as exc:
        fail(exc.message, NOT_RUNNING_EXIT)
    except ControlError as exc:
        fail(f"the daemon refused {cmd!r} ({exc.code}): {exc.message}")


def connect_or_none(socket_path: Path | None) -> ControlClient | None:
    """A connection to the running daemon, or None when it is not running (the caller works without it)."""
    try:
        return ControlClient(socket_path).connect()
    except DaemonNotRunning:
        return None
    except ControlError as exc:
        fail(exc.message)


def socket_of(socket_path: Path | None) -> Path:
    return socket_path or default_socket()
