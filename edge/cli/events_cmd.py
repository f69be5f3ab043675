"""`shelf-node events tail [-n N] [--follow]`: the latest weight and item events of the running daemon,
with their review reasons (the outbox forgets an event once the hub has it; the daemon keeps the last ones)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from edge.cli.common import json_option, table
from edge.cli.control_common import ask, socket_option


@click.group()
def events() -> None:
    """The node's recent events."""


@events.command()
@socket_option
@json_option
@click.option("-n", "count", type=click.IntRange(0, 1000), default=10, show_default=True)
@click.option("--follow", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option("--interval", "interval_s", type=click.FloatRange(0.1, 60), default=0.5, show_default=True)
def tail(socket_path: Path | None, as_json: bool, count: int, follow: bool, interval_s: float) -> None:
    """The last N events, oldest first; with --json one JSON object per line."""
    batch = ask(socket_path, "events", {"n": count})["events"]
    _print(batch, as_json, header=True)
    last = batch[-1]["n"] if batch else 0
    try:
        while follow:
            time.sleep(interval_s)
            batch = ask(socket_path, "events", {"n": 1000, "after": last})["events"]
            _print(batch, as_json, header=False)
            last = batch[-1]["n"] if batch else last
    except KeyboardInterrupt:
        return


HEADERS = ["seq", "kind", "time", "plates", "delta_g", "quality", "item", "review"]


def _print(batch: list[dict[str, Any]], as_json: bool, header: bool) -> None:
    import json

    if as_json:
        for event in batch:
            click.echo(json.dumps(event, sort_keys=True))
        return
    if not batch:
        if header:
            click.echo("no events since the daemon started")
        return
    lines = table(HEADERS, [row(e) for e in batch]).splitlines()
    click.echo("\n".join(lines if header else lines[2:]))


def row(event: dict[str, Any]) -> list[Any]:
    return [event.get("seq"), event.get("kind"), str(event.get("t_end_iso") or "-")[11:19] or "-",
            ",".join(event.get("plates") or []) or "-", event.get("delta_g"), event.get("quality"),
            item_words(event), review_words(event)]


def item_words(event: dict[str, Any]) -> str:
    if event.get("kind") != "item":
        return "-"
    lines = event.get("lines") or []
    goods = ", ".join(f"{line.get('count')}x {line.get('sku')}" for line in lines if isinstance(line, dict))
    confidence = event.get("confidence")
    sure = f" ({confidence:.0%})" if isinstance(confidence, int | float) else ""
    return f"{event.get('action', '?')} {goods}".strip() + sure


def review_words(event: dict[str, Any]) -> str:
    review = event.get("review")
    reasons = review.get("reasons") if isinstance(review, dict) else event.get("flags")
    return ",".join(map(str, reasons or [])) or "-"
