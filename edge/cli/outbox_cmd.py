"""`shelf-node outbox` (placeholder until its owner fills it in)."""

from __future__ import annotations

import click


@click.command()
def outbox() -> None:
    """Not implemented yet."""
    raise click.ClickException("'outbox' is not implemented yet")
