"""`shelf-node outbox [status|export|salvage]`: what is waiting to be delivered to the hub.

`shelf-node outbox --config FILE` (no subcommand) is the same as `outbox status`. A corrupt file
is named as such by every subcommand; `salvage` copies what it still holds into a new file.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.mqtt.envelope import iso_ms
from edge.outbox import Outbox, OutboxCorruptError, outbox_path


def _open(config_path: Path) -> tuple[Outbox, str, str]:
    config = load_or_fail(config_path)
    path = outbox_path(config)
    if not path.is_file():
        fail(f"no outbox at {path}: the node has not stored any event yet, or [outbox] path / [node] state_dir "
             f"point elsewhere")
    outbox: Outbox = run_guarded(lambda: Outbox(path, config.outbox))
    return outbox, config.node.store_id, config.node.node_id


def _render_status(status: dict[str, Any]) -> str:
    rows = [[key, ("yes" if value else "no") if isinstance(value, bool) else value] for key, value in status.items()]
    return table(["field", "value"], rows)


@click.group(invoke_without_command=True)
@config_option
@json_option
@click.pass_context
def outbox(ctx: click.Context, config_path: Path, as_json: bool) -> None:
    """Durable outbox: depth, oldest age, last error (default), or export pending events."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, as_json=as_json)
    if ctx.invoked_subcommand is None:
        _status(config_path, as_json)


@outbox.command("status")
@config_option
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, config_path: Path, as_json: bool) -> None:
    """Depth, oldest pending event's age, drop/reject counters and the last delivery error."""
    parent = ctx.obj or {}
    _status(config_path if ctx.get_parameter_source("config_path") != click.core.ParameterSource.DEFAULT
            else parent.get("config_path", config_path), as_json or parent.get("as_json", False))


def _status(config_path: Path, as_json: bool) -> None:
    box, _, _ = _open(config_path)
    try:
        emit(box.status().to_json(), as_json, _render_status)
    finally:
        box.close()


@outbox.command("export")
@config_option
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--pending-only", is_flag=True, help="Leave out events the broker rejected.")
@click.pass_context
def export_cmd(ctx: click.Context, config_path: Path, out: Path | None, pending_only: bool) -> None:
    """Write undelivered (and rejected) events as JSON lines to OUT (default: stdout), oldest first."""
    if ctx.get_parameter_source("config_path") == click.core.ParameterSource.DEFAULT and ctx.obj:
        config_path = ctx.obj.get("config_path", config_path)
    box, store, node = _open(config_path)
    try:
        if out is None:
            count = _export(box, store, node, sys.stdout, pending_only)
        else:
            try:
                with out.open("w", encoding="utf-8") as handle:
                    count = _export(box, store, node, handle, pending_only)
            except OSError as exc:
                fail(f"cannot write {out}: {exc.strerror or exc}; choose another OUT path")
    finally:
        box.close()
    click.echo(f"exported {count} event(s)", err=True)


def _export(box: Outbox, store: str, node: str, stream: TextIO, pending_only: bool) -> int:
    count = 0
    for row in box.iter_rows(include_rejected=not pending_only):
        record = {"store": store, "node": node, "seq": row.seq, "event_id": row.event_id, "kind": row.kind,
                  "ts": iso_ms(row.produced_at), "state": row.state, "reason": row.reason, "body": row.body}
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        count += 1
    return count


@outbox.command("salvage")
@config_option
@json_option
@click.pass_context
def salvage_cmd(ctx: click.Context, config_path: Path, as_json: bool) -> None:
    """Corrupt outbox: keep it aside (.corrupt-<time>) and copy every readable event into a new file.

    Stop the daemon first. The daemon does the same by itself when it finds the file corrupt at start.
    """
    from edge.outbox.salvage import salvage

    if ctx.get_parameter_source("config_path") == click.core.ParameterSource.DEFAULT and ctx.obj:
        config_path = ctx.obj.get("config_path", config_path)
    config = load_or_fail(config_path)
    path = outbox_path(config)
    if not path.is_file():
        fail(f"no outbox at {path}: nothing to salvage ([outbox] path / [node] state_dir)")
    try:
        Outbox(path, config.outbox).close()
    except OutboxCorruptError as exc:
        click.echo(f"shelf-node: {exc.path} is corrupt ({exc.detail}); salvaging", err=True)
    else:
        click.echo(f"outbox {path} is not corrupt (SQLite quick_check: ok); nothing to salvage", err=True)
        return
    report = run_guarded(lambda: salvage(path))
    emit(asdict(report), as_json, lambda _: report.summary())
