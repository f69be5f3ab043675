"""`shelf-node camera` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def camera() -> None:
    """Not implemented yet."""
    raise click.ClickException("'camera' is not implemented yet")
