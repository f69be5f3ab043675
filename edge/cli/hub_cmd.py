"""`shelf-node hub watch`: the reference subscriber for integrators; validates and tracks what nodes send."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, Any

import click
from pydantic import ValidationError

from edge.cli.common import fail, load_or_fail
from edge.config.loader import describe_validation_error
from edge.config.mqtt import MqttSection
from edge.errors import SecretError
from edge.hub.human_lines import human_line
from edge.hub.tracker import HubRecord
from edge.hub.watcher import DEFAULT_CLIENT_ID, HubWatcher, hub_section

# option name -> [mqtt] key; options left out keep the value from --config (or the default)
BROKER_KEYS = {"host": "host", "port": "port", "prefix": "topic_prefix", "protocol": "protocol",
               "username": "username", "password_ref": "password"}
TLS_KEYS = {"ca_file": "ca_file", "cert_file": "cert_file", "key_file": "key_file"}


def broker_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the broker connection options and hand the command one `section: MqttSection` built from them."""

    @functools.wraps(command)
    def wrapper(config_path: Path | None, **options: Any) -> None:
        given = {key: options.pop(name) for name, key in BROKER_KEYS.items()}
        tls = {key: options.pop(name) for name, key in TLS_KEYS.items()}
        base: dict[str, Any] = {}
        if config_path is not None:
            base = load_or_fail(config_path).mqtt.model_dump(exclude_none=True)
        fields = {**base, **{k: v for k, v in given.items() if v is not None}}
        if any(v is not None for v in tls.values()):
            fields["tls"] = {**base.get("tls", {}), **{k: v for k, v in tls.items() if v is not None}}
        try:
            section = hub_section(**fields)
        except ValidationError as exc:
            fail("; ".join(describe_validation_error(exc)), code=2)
        command(section=section, **options)

    for option in reversed([
        click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Take the broker settings from this node config's [mqtt]; options below override."),
        click.option("--host", default=None, help="Broker host [127.0.0.1]."),
        click.option("--port", default=None, type=click.IntRange(1, 65535), help="Broker port [1883]."),
        click.option("--prefix", default=None, help="First topic level ([mqtt] topic_prefix) [shelf]."),
        click.option("--protocol", default=None, type=click.Choice(["3.1.1", "5"]), help="MQTT version [5]."),
        click.option("--username", default=None, help="Broker user name."),
        click.option("--password", "password_ref", default=None,
                     help="Secret reference: file:/path or credential:NAME."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA file: connect with TLS."),
        click.option("--cert-file", type=click.Path(exists=True, dir_okay=False),
                     help="Client certificate (mutual TLS)."),
        click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Client key (mutual TLS)."),
    ]):
        wrapper = option(wrapper)
    return wrapper


@click.group()
def hub() -> None:
    """Hub-side tools: watch what shelf nodes publish."""


@hub.command("watch")
@broker_options
@click.option("--store", default=None, help="Only this store (default: all stores).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also append records as JSON lines.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record on stdout, summary last.")
@click.option("--duration", type=click.FloatRange(min=0), help="Stop after S seconds.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after N distinct events.")
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True,
              help="Persistent-session id: reuse it to get events queued while the watcher was away.")
def watch(section: MqttSection, store: str | None, out: Path | None, as_json: bool, duration: float | None,
          count: int | None, client_id: str) -> None:
    """Validate every payload against the contract (the node's own validator) and track sessions and seqs.

    Exit status 1 if any payload was invalid or seqs are still missing at the end.
    """
    sink: IO[str] | None = None
    if out is not None:
        try:
            sink = out.open("a", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot open {out}: {exc.strerror or exc}; choose another --out path")

    def on_record(record: HubRecord) -> None:
        nonlocal sink
        line = json.dumps(record.to_json(), separators=(",", ":"), default=str)
        if sink is not None:
            try:
                sink.write(line + "\n")
                sink.flush()
            except OSError as exc:  # a full disk must not stop the watcher (the paho thread calls this)
                click.echo(f"shelf-node: cannot write {out}: {exc.strerror or exc}; --out stopped, watching "
                           f"goes on", err=True)
                with contextlib.suppress(OSError):  # closing flushes again; the failure is reported above
                    sink.close()
                sink = None
        click.echo(line if as_json else human_line(record))

    try:
        watcher = HubWatcher(section, store=store, client_id=client_id, on_record=on_record, keep_records=False)
    except SecretError as exc:
        fail(str(exc))

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
    _summarise(watcher, as_json)


def _summarise(watcher: HubWatcher, as_json: bool) -> None:
    summary = watcher.tracker.summary()
    if as_json:
        click.echo(json.dumps({"summary": summary}, separators=(",", ":")))
    else:
        for node in summary["nodes"]:
            click.echo(f"summary {node['store']}/{node['node']}: {node['events']} events "
                       f"(seq {node['first_seq'] or '-'}..{node['last_seq'] or '-'}), {node['duplicates']} "
                       f"duplicates, {node['missing_count']} missing, {node['invalid']} invalid, "
                       f"state {node['state'] or '-'} session {node['session']}", err=True)
    violations = watcher.tracker.violations()
    if violations:
        click.echo(f"shelf-node: {violations} contract problem(s) (invalid payloads or missing seqs); "
                   f"see the INVALID/gap lines above", err=True)
        sys.exit(1)
