"""`shelf-node detect` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def detect() -> None:
    """Not implemented yet."""
    raise click.ClickException("'detect' is not implemented yet")
