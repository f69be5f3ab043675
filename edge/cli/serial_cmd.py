"""`shelf-node serial` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def serial() -> None:
    """Not implemented yet."""
    raise click.ClickException("'serial' is not implemented yet")
