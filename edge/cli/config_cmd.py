"""`shelf-node config check FILE` and `config show`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edge.cli.common import emit, json_option, load_or_fail
from edge.config import config_digest, load_config
from edge.errors import ConfigError


@click.group()
def config() -> None:
    """Check or show a configuration file."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def check(file: Path, as_json: bool) -> None:
    """Validate FILE; print one line per problem and exit 2 if it is wrong."""
    try:
        node_config = load_config(file)
    except ConfigError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "file": str(file), "problems": exc.problems}, indent=2))
        else:
            for problem in exc.problems:
                click.echo(problem, err=True)
        raise SystemExit(2) from None
    result = {"ok": True, "file": str(file), "digest": config_digest(node_config),
              "plates": node_config.plate_names()}
    emit(result, as_json, lambda r: f"{r['file']}: OK ({len(r['plates'])} plates, digest {r['digest'][:12]})")


@config.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def show(file: Path) -> None:
    """Print the effective configuration (defaults filled in) as JSON."""
    node_config = load_or_fail(file)
    click.echo(json.dumps(node_config.model_dump(mode="json"), indent=2))
