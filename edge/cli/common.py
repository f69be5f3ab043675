"""What every CLI command shares: loading config, one-line errors, tables or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from edge.config import DEFAULT_PATH, NodeConfig, load_config
from edge.errors import ConfigError, ShelfNodeError

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PATH,
    show_default=True,
    envvar="SHELF_NODE_CONFIG",
    help="Node configuration file (TOML).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr that says what is wrong and what to do, then exit non-zero."""
    click.echo(f"shelf-node: {message}", err=True)
    sys.exit(code)


def load_or_fail(path: Path) -> NodeConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"shelf-node: {problem}", err=True)
        sys.exit(2)


def emit(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    """JSON when asked for, else the human rendering."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        click.echo(render(data))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)


def run_guarded(action: Callable[[], Any]) -> Any:
    """Run `action`; turn a deliberate ShelfNodeError into a one-line message and exit 1."""
    try:
        return action()
    except ShelfNodeError as exc:
        fail(str(exc))
