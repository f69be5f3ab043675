"""`shelf-node replay` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def replay() -> None:
    """Not implemented yet."""
    raise click.ClickException("'replay' is not implemented yet")
