"""`shelf-node demo`: the whole node on a simulated shelf, with a private broker (./scripts/demo)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, help="Logs, config, ground truth and node state go here (emptied first).")
@click.option("--seed", type=int, default=1, show_default=True, help="Scenario and shelf seed.")
@click.option("--duration", type=click.FloatRange(1), default=None, help="Stop after this many seconds.")
@click.option("--sps", type=click.FloatRange(1, 1000), default=80.0, show_default=True)
@click.option("--plain", is_flag=True, help="Print one line per event instead of redrawing the screen.")
def demo(workdir: Path, seed: int, duration: float | None, sps: float, plain: bool) -> None:
    """Simulated shelf -> daemon -> local mosquitto -> events as the hub sees them. Ctrl-C stops everything."""
    from edge.demo.runner import run_demo

    result = run_demo(workdir.resolve(), seed, duration, sys.stdout, live=sys.stdout.isatty() and not plain, sps=sps)
    ok = result.invalid == 0 and result.daemon_exit == 0
    raise SystemExit(0 if ok else 1)
