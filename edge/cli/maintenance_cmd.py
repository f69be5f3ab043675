"""`shelf-node maintenance [on|off|restock --sku X]`: restock mode on the running daemon (as the button's short
press); `restock --sku X` also declares the SKU being stocked, so the camera's crops of those restocks become
gallery examples of X (docs/gallery.md) until maintenance mode goes off."""

from __future__ import annotations

from pathlib import Path

import click

from edge.cli.common import fail
from edge.cli.control_common import ask, socket_option


@click.command()
@socket_option
@click.argument("mode", type=click.Choice(["on", "off", "restock"]), required=False)
@click.option("--sku", default=None, help="With restock: the SKU being stocked (must be in the planogram).")
def maintenance(socket_path: Path | None, mode: str | None, sku: str | None) -> None:
    """Show, or switch, maintenance mode: while on, weight changes are restocks, not sales."""
    if mode == "restock":
        if sku is None:
            fail("maintenance restock needs --sku SKU: the product being stocked")
        answer = ask(socket_path, "restock", {"sku": sku})
        click.echo(f"maintenance mode ON, restocking {answer['restock_sku']} ('maintenance off' ends it)")
        return
    if sku is not None:
        fail("--sku goes with 'maintenance restock' only")
    answer = ask(socket_path, "maintenance", {} if mode is None else {"on": mode == "on"})
    click.echo(f"maintenance mode {'ON' if answer['maintenance'] else 'off'}")
