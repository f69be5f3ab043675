"""`shelf-node hub watch`: the reference subscriber for integrators; validates and tracks what nodes send."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import IO, Any

import click

from edge.cli.common import fail
from edge.config.secrets import read_secret
from edge.errors import SecretError
from edge.mqtt.hub import HubRecord, HubWatcher


@click.group()
def hub() -> None:
    """Hub-side tools: watch what shelf nodes publish."""


def _human(record: HubRecord) -> str:
    who = f"{record.store}/{record.node}"
    if not record.valid:
        return f"INVALID {record.type:7} {who}: {'; '.join(record.problems)[:300]}"
    payload: Any = record.payload or {}
    note = f"  [{record.note}]" if record.note else ""
    if record.type == "event":
        body = payload.get("body", {})
        detail = f"delta_g={body['delta_g']}" if "delta_g" in body else f"sku={body.get('sku')}"
        hist = " historical" if payload.get("historical") else ""
        return (f"{payload['ts']} {who} event seq={payload['seq']} kind={payload['kind']} {detail} "
                f"session={payload['session']}{hist}{note}")
    if record.type == "status":
        return f"{payload.get('ts')} {who} status {payload.get('state')} session={payload.get('session')}{note}"
    if record.type == "resp":
        outcome = "ok" if payload.get("ok") else f"error {payload.get('error', {}).get('code')}"
        return f"{payload.get('ts')} {who} resp {payload.get('command')} {outcome}{note}"
    return f"{payload.get('ts', '-')} {who} {record.type}{note}"


@hub.command("watch")
@click.option("--host", default="127.0.0.1", show_default=True, help="Broker host.")
@click.option("--port", default=1883, show_default=True, type=click.IntRange(1, 65535), help="Broker port.")
@click.option("--store", default=None, help="Only this store (default: all stores).")
@click.option("--prefix", default="shelf", show_default=True, help="First topic level ([mqtt] topic_prefix).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also append records as JSON lines.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record on stdout, summary last.")
@click.option("--duration", type=click.FloatRange(min=0), help="Stop after S seconds.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after N distinct events.")
@click.option("--client-id", default="shelf-hub-watch", show_default=True,
              help="Persistent-session id: reuse it to get events queued while the watcher was away.")
@click.option("--username", default=None, help="Broker user name.")
@click.option("--password", "password_ref", default=None, help="Secret reference: file:/path or credential:NAME.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA file: connect with TLS.")
@click.option("--cert-file", type=click.Path(exists=True, dir_okay=False), help="Client certificate (mutual TLS).")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Client key (mutual TLS).")
def watch(host: str, port: int, store: str | None, prefix: str, out: Path | None, as_json: bool,
          duration: float | None, count: int | None, client_id: str, username: str | None,
          password_ref: str | None, ca_file: str | None, cert_file: str | None, key_file: str | None) -> None:
    """Validate every payload against the contract's JSON Schemas and track sessions and seqs.

    Exit status 1 if any payload was invalid or seqs are still missing at the end.
    """
    try:
        password = read_secret(password_ref) if password_ref else None
    except SecretError as exc:
        fail(str(exc))
    sink: IO[str] | None = None
    if out is not None:
        try:
            sink = out.open("a", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot open {out}: {exc.strerror or exc}; choose another --out path")

    def on_record(record: HubRecord) -> None:
        line = json.dumps(record.to_json(), separators=(",", ":"), default=str)
        if sink is not None:
            sink.write(line + "\n")
            sink.flush()
        click.echo(line if as_json else _human(record))

    watcher = HubWatcher(host, port, prefix=prefix, store=store, client_id=client_id, on_record=on_record,
                         username=username, password=password, ca_file=ca_file, cert_file=cert_file,
                         key_file=key_file, keep_records=False)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        watcher.stop()

    signal.signal(signal.SIGTERM, interrupt)
    try:
        watcher.run(duration=duration, count=count)
    except KeyboardInterrupt:
        watcher.stop()
    finally:
        if sink is not None:
            sink.close()
    summary = watcher.tracker.summary()
    if as_json:
        click.echo(json.dumps({"summary": summary}, separators=(",", ":")))
    else:
        for node in summary["nodes"]:
            click.echo(f"summary {node['store']}/{node['node']}: {node['events']} events "
                       f"(seq {node['first_seq']}..{node['last_seq']}), {node['duplicates']} duplicates, "
                       f"{node['missing_count']} missing, {node['invalid']} invalid, state {node['state']} "
                       f"session {node['session']}", err=True)
    violations = watcher.tracker.violations()
    if violations:
        click.echo(f"shelf-node: {violations} contract problem(s) (invalid payloads or missing seqs); "
                   f"see the INVALID/gap lines above", err=True)
        sys.exit(1)
