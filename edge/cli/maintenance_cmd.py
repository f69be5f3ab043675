"""`shelf-node maintenance [on|off]`: restock mode on the running daemon (as the button's short press)."""

from __future__ import annotations

from pathlib import Path

import click

from edge.cli.control_common import ask, socket_option


@click.command()
@socket_option
@click.argument("mode", type=click.Choice(["on", "off"]), required=False)
def maintenance(socket_path: Path | None, mode: str | None) -> None:
    """Show, or switch, maintenance mode: while on, weight changes are restocks, not sales."""
    answer = ask(socket_path, "maintenance", {} if mode is None else {"on": mode == "on"})
    click.echo(f"maintenance mode {'ON' if answer['maintenance'] else 'off'}")
