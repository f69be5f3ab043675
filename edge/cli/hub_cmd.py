"""`shelf-node hub` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def hub() -> None:
    """Not implemented yet."""
    raise click.ClickException("'hub' is not implemented yet")
