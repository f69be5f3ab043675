"""`shelf-node sim` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def sim() -> None:
    """Not implemented yet."""
    raise click.ClickException("'sim' is not implemented yet")
