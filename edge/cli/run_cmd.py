"""`shelf-node run` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def run() -> None:
    """Not implemented yet."""
    raise click.ClickException("'run' is not implemented yet")
