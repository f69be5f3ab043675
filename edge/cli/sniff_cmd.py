"""`shelf-node serial sniff`: raw serial lines with their checksum verdict and decoded fields, live. Through the
running daemon, which holds the port (its control socket's `serial-lines`), or directly on the port when no
daemon answers; the first line says which."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, fail, json_option, load_or_fail
from edge.cli.control_common import connect_or_none, socket_of, socket_option
from edge.config import NodeConfig
from edge.control.client import ControlClient
from edge.control.protocol import ControlError

POLL_S = 0.2
CONTEXT_LINES = 10  # through the daemon, start with this many of the lines it already has


@click.command()
@config_option
@socket_option
@json_option
@click.option("--duration", type=click.FloatRange(min=0.1), default=None, help="Stop after S seconds (default: "
              "until Ctrl-C).")
@click.option("--count", type=click.IntRange(1), default=None, help="Stop after this many lines.")
def sniff(config_path: Path, socket_path: Path | None, as_json: bool, duration: float | None,
          count: int | None) -> None:
    """Raw lines with checksum verdicts and decoded fields, live (JSON lines with --json): through the running
    daemon, or directly on the port (from the config) when it is stopped."""
    daemon = connect_or_none(socket_path)
    if daemon is not None:
        with daemon:
            lines = _through_daemon(daemon, socket_of(socket_path), as_json)
            _show(lines, as_json, duration, count)
        return
    config = load_or_fail(config_path)
    mode = {"type": "mode", "mode": "direct", "port": config.serial.port, "protocol": config.serial.protocol,
            "socket": str(socket_of(socket_path))}
    click.echo(json.dumps(mode) if as_json else
               f"serial sniff DIRECT on {config.serial.port} ({config.serial.protocol}): no daemon answers on "
               f"{mode['socket']}")
    _show(_direct(config), as_json, duration, count)


def _through_daemon(daemon: ControlClient, socket: Path, as_json: bool) -> Iterator[dict[str, Any]]:
    try:
        first = daemon.request("serial-lines", {"limit": 0})
    except ControlError as exc:
        fail(f"the daemon refused 'serial-lines' ({exc.code}): {exc.message}")
    mode = {"type": "mode", "mode": "daemon", "port": first["port"], "protocol": first["protocol"],
            "socket": str(socket)}
    click.echo(json.dumps(mode) if as_json else
               f"serial sniff THROUGH THE DAEMON on {socket} (it holds {first['port']}, {first['protocol']})")
    return _poll(daemon, max(int(first["last"]) - CONTEXT_LINES, 0))


def _poll(daemon: ControlClient, after: int) -> Iterator[dict[str, Any]]:
    while True:
        try:
            answer = daemon.request("serial-lines", {"after": after})
        except ControlError as exc:
            fail(f"the daemon stopped answering: {exc.message}")
        lines = answer["lines"]
        if lines and lines[0]["n"] > after + 1:
            yield {"type": "skipped", "lines": lines[0]["n"] - after - 1}
        for line in lines:
            after = line["n"]
            yield {"type": "line", **line}
        if not lines:
            time.sleep(POLL_S)
            yield {"type": "idle"}


def _direct(config: NodeConfig) -> Iterator[dict[str, Any]]:
    from edge.loadcell.reader import SerialReader
    from edge.loadcell.sniff import LineJudge

    raw: queue.Queue[tuple[float, bytes]] = queue.Queue()
    judge = LineJudge(config.serial)
    reader = SerialReader(config.serial, lambda record: None, lambda t, line: raw.put((t, line)),
                          give_up_when_busy=True).start()
    n = 0
    try:
        while True:
            try:
                t, line = raw.get(timeout=POLL_S)
            except queue.Empty:
                port = reader.status().port
                if port.busy or (not port.connected and port.last_error and not port.opens):
                    fail(str(port.last_error))
                yield {"type": "idle"}
                continue
            n += 1
            yield {"type": "line", "n": n, **judge.judge(t, line).to_json()}
    finally:
        reader.stop()


def _show(lines: Iterator[dict[str, Any]], as_json: bool, duration: float | None, count: int | None) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    shown = 0
    try:
        for line in lines:
            if line["type"] != "idle":
                click.echo(json.dumps(line) if as_json else _human(line))
                shown += line["type"] == "line"
            if (count is not None and shown >= count) or (deadline is not None and time.monotonic() >= deadline):
                return
    except KeyboardInterrupt:
        return


def _human(line: dict[str, Any]) -> str:
    if line["type"] == "skipped":
        return f"... {line['lines']} line(s) not shown (the daemon keeps the latest 2000)"
    when = datetime.fromtimestamp(line["t"]).strftime("%H:%M:%S.%f")[:-3]
    fields = line["fields"]
    if line["verdict"] == "checksum":
        detail = f"checksum {fields.get('received')} received, {fields.get('computed')} computed"
    elif line["kind"] == "weight":
        counts = ",".join("-" if c is None else str(c) for c in fields["counts"])
        detail = f"weight seq={fields['seq']} mcu_ms={fields['mcu_ms']} counts={counts}"
    elif line["kind"] == "info":
        detail = (f"info fw={fields['firmware']} ch={fields['channels']} sps={fields['sps']:g} "
                  f"uid={fields['uid']}")
    else:
        detail = ""
    return f"{when}  {line['verdict'].upper() if line['verdict'] != 'ok' else 'ok':12} {detail:60} {line['raw']}"
