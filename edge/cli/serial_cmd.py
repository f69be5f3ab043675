"""`shelf-node serial watch|record`: look at the load-cell line live, or record it for replay.

Both open the port from the config exactly as the daemon does (same reader, parser and health
counters), so stop the daemon first: the port is opened exclusively, and a port another process
holds (the running daemon, named with its pid) fails at once instead of being retried.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, fail, json_option, load_or_fail, table
from edge.config import NodeConfig, config_digest
from edge.errors import CameraError
from edge.loadcell.channel_faults import ChannelFaults
from edge.loadcell.reader import SerialReader
from edge.loadcell.recording import CaptureWriter
from edge.loadcell.serial_status import SerialStatus
from edge.model import InfoFrame, WeightFrame
from edge.node.frame_recorder import FrameRecorder

REFRESH_S = 0.5
HEADER_WAIT_S = 1.5  # how long `record` waits for the info frame (its sps goes in the header)
duration_option = click.option(
    "--duration", type=click.FloatRange(min=0.1), default=None, help="Stop after S seconds (default: until Ctrl-C)."
)


@click.group()
def serial() -> None:
    """Watch or record the load-cell microcontroller's serial line."""


@serial.command()
@config_option
@json_option
@duration_option
def watch(config_path: Path, as_json: bool, duration: float | None) -> None:
    """Decoded frames per channel and the health counters, live (JSON lines with --json)."""
    config = load_or_fail(config_path)
    records: queue.Queue[WeightFrame | InfoFrame] = queue.Queue()
    reader = SerialReader(config.serial, records.put, give_up_when_busy=True).start()
    faults = ChannelFaults.from_config(config)  # per-channel dropouts, stuck and rail, as the weigher counts them
    latest: WeightFrame | None = None
    frames_at_last_draw, last_draw = 0, time.monotonic()
    interactive = not as_json and sys.stdout.isatty()

    def drain() -> None:
        nonlocal latest
        while True:
            try:
                record = records.get_nowait()
            except queue.Empty:
                return
            if isinstance(record, WeightFrame):
                latest = record
                faults.observe(record.t, record.counts)
            if as_json:
                click.echo(json.dumps(_record_json(record)))

    try:
        for now in _ticks(duration):
            drain()
            if reader.health.port_busy:
                break  # another process holds the port: retrying would only repeat that
            if now - last_draw >= REFRESH_S:
                snap = reader.status()
                rate = (snap.frames_ok - frames_at_last_draw) / (now - last_draw)
                frames_at_last_draw, last_draw = snap.frames_ok, now
                if as_json:
                    click.echo(json.dumps(_health_json(snap, faults)))
                elif interactive:
                    click.echo("\x1b[H\x1b[2J" + _render(config, snap, faults, latest, rate), nl=False)
    finally:
        reader.stop()
    drain()  # what arrived between the last tick and stop(), so the totals match the frames shown
    snap = reader.status()
    _fail_if_busy(snap)
    if as_json:
        click.echo(json.dumps(_health_json(snap, faults)))
    else:
        click.echo(("\x1b[H\x1b[2J" if interactive else "") + _render(config, snap, faults, latest, None))
    _fail_without_frames(config, snap)


@serial.command()
@config_option
@json_option
@duration_option
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--frames", "frames_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also record the [camera]'s frames into this (empty) directory as <unix ms>.jpg (replay --frames).")
@click.option("--frames-max-count", type=click.IntRange(min=1), default=36_000, show_default=True,
              help="Stop recording frames after this many (1 h at 10 fps).")
@click.option("--frames-max-mb", type=click.FloatRange(min=1), default=2000.0, show_default=True,
              help="Stop recording frames past this many megabytes.")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def record(config_path: Path, as_json: bool, duration: float | None, force: bool, out: Path,
           frames_dir: Path | None = None, frames_max_count: int = 36_000, frames_max_mb: float = 2000.0) -> None:
    """Record every raw line with its reception time to OUT (a capture file, see docs/capture-format.md)."""
    config = load_or_fail(config_path)
    if out.exists() and not force:
        fail(f"{out} already exists; choose another name or pass --force to overwrite it")
    frames = _start_frames(config, frames_dir, frames_max_count, frames_max_mb) if frames_dir else None
    lines: queue.Queue[tuple[float, bytes]] = queue.Queue()
    infos: list[InfoFrame] = []

    def keep_info(record: WeightFrame | InfoFrame) -> None:
        if isinstance(record, InfoFrame):
            infos.append(record)

    reader = SerialReader(config.serial, keep_info, lambda t, raw: lines.put((t, raw)), give_up_when_busy=True)
    writer: CaptureWriter | None = None
    held: list[tuple[float, bytes]] = []  # lines received before the header could be written
    started = time.monotonic()
    recorded = 0
    reader.start()
    try:
        for now in _ticks(duration):
            _drain(lines, held)
            if reader.health.port_busy:
                break
            if writer is None and (infos or now - started >= HEADER_WAIT_S):
                writer = _open_capture(out, config, infos[0] if infos else None)
            if writer is not None:
                recorded += _write_held(writer, held)
    finally:
        reader.stop()
        recorded_frames = frames.stop() if frames is not None else None
        _drain(lines, held)
        if writer is None and held:
            writer = _open_capture(out, config, infos[0] if infos else None)
        if writer is not None:
            recorded += _write_held(writer, held)
            writer.close()
    snap = reader.status()
    summary: dict[str, Any] = {"capture": str(out), "lines": recorded, "frames_ok": snap.frames_ok,
                               "errors": snap.errors}
    if recorded_frames is not None:
        summary["camera"] = recorded_frames.to_json()
    if recorded == 0:
        out.unlink(missing_ok=True)
        _fail_if_busy(snap)
        _fail_without_frames(config, snap)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"recorded {recorded} lines ({snap.frames_ok} frames, {snap.errors} bad lines) to {out}")
        if recorded_frames is not None:
            r = recorded_frames
            note = f"; stopped at {r.full}" if r.full else ""
            errors = f"; camera failed {r.errors} times, last: {r.last_error}" if r.errors else ""
            click.echo(f"recorded {r.frames} camera frames ({r.bytes / 1e6:.1f} MB) to {r.directory}{note}{errors}")


def _start_frames(config: NodeConfig, directory: Path, max_count: int, max_mb: float) -> FrameRecorder:
    """The camera recorder beside the capture (edge/node/frame_recorder.py); fails when there is no camera."""
    from edge.hw.camera import open_camera

    if config.camera is None:
        fail("--frames records the [camera]'s frames, and the config has no [camera] section; add one "
             "(docs/vision.md) or leave --frames out")
    try:
        return FrameRecorder(open_camera(config.camera), config.camera, directory, max_count,
                             int(max_mb * 1e6)).start()
    except CameraError as exc:
        fail(str(exc))


def _ticks(duration: float | None) -> Iterator[float]:
    """Yield the monotonic time every 50 ms until `duration` has passed or Ctrl-C."""
    start = time.monotonic()
    try:
        while duration is None or time.monotonic() - start < duration:
            time.sleep(0.05)
            yield time.monotonic()
    except KeyboardInterrupt:
        return


def _drain(lines: queue.Queue[tuple[float, bytes]], held: list[tuple[float, bytes]]) -> None:
    while True:
        try:
            held.append(lines.get_nowait())
        except queue.Empty:
            return


def _write_held(writer: CaptureWriter, held: list[tuple[float, bytes]]) -> int:
    """Write and forget the held lines; returns how many."""
    for t, raw in held:
        writer.write(t, raw)
    count = len(held)
    held.clear()
    return count


def _open_capture(out: Path, config: NodeConfig, info: InfoFrame | None) -> CaptureWriter:
    header = {
        "node": f"{config.node.store_id}/{config.node.node_id}",
        "config_digest": config_digest(config),
        "protocol": config.serial.protocol,
        "channels": str(config.serial.channels),
        "sps": f"{info.sps:g}" if info else "unknown",
        "firmware": info.firmware if info else "unknown",
        "source": config.serial.port,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        return CaptureWriter(out, header)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}; check the directory exists and is writable")


def _record_json(record: WeightFrame | InfoFrame) -> dict[str, Any]:
    if isinstance(record, InfoFrame):
        fields = {"firmware": record.firmware, "channels": record.channels, "sps": record.sps, "uid": record.uid}
        return {"type": "info", "t": record.t, **fields}
    return {"type": "frame", "t": record.t, "seq": record.seq, "mcu_ms": record.mcu_ms, "counts": list(record.counts)}


def _health_json(snap: SerialStatus, faults: ChannelFaults) -> dict[str, Any]:
    """The serial status, plus the per-channel counters `serial watch` tracks itself (`channels`)."""
    return {"type": "health", **snap.to_json(),
            "channels": [c.to_json() for c in faults.status(time.time())]}


def _render(config: NodeConfig, snap: SerialStatus, faults: ChannelFaults, latest: WeightFrame | None,
            rate: float | None) -> str:
    port = snap.port
    if port.connected:
        state = "connected"
    elif port.last_error:
        state = f"DISCONNECTED: {port.last_error}"
    else:
        state = "closed" if port.opens else "opening"
    info = snap.last_info
    lines = [
        f"{config.serial.port}  {state}  {config.serial.protocol}  "
        + (f"fw {info.firmware} uid {info.uid} {info.sps:g} sps" if info else "no info frame"),
        f"frames {snap.frames_ok}" + (f" ({rate:.0f}/s)" if rate is not None else "")
        + f"  age {snap.last_frame_age_s}s  bad lines {snap.errors} (checksum {snap.checksum_errors}"
        + "".join(f", {reason} {n}" for reason, n in snap.malformed.items() if n) + ")",
        f"seq gaps {snap.seq_gaps} (lost {snap.frames_lost})  mcu resets {snap.mcu_resets}  "
        f"port opens {port.opens} reopens {port.reopens} outage {port.outage_s:.1f}s",
        "",
    ]
    counts = latest.counts if latest else (None,) * config.serial.channels
    channels = faults.status(time.time())
    rows = [
        [channel, counts[channel], status.silent_frames, "STUCK" if status.stuck_now else "", status.saturated_frames]
        for channel, status in enumerate(channels)
    ]
    lines.append(table(["ch", "last", "dropouts", "stuck", "saturated"], rows))
    return "\n".join(lines) + "\n"


def _fail_if_busy(snap: SerialStatus) -> None:
    """Another process holds the port: say who, once, and stop (no retrying, no second hint)."""
    if snap.port.busy:
        fail(str(snap.port.last_error))


def _fail_without_frames(config: NodeConfig, snap: SerialStatus) -> None:
    if snap.frames_ok:
        return
    port = config.serial.port
    if not snap.port.opens:
        fail(f"{snap.port.last_error}; fix serial.port in the config or the device")
    if snap.bytes_received:
        fail(
            f"{snap.bytes_received} bytes from {port} but no valid frame ({snap.errors} bad lines: "
            f"{ {k: v for k, v in snap.malformed.items() if v} }, checksum {snap.checksum_errors}); "
            "check serial.protocol, serial.channels and serial.baudrate"
        )
    fail(f"no data from {port}; check the wiring, that the microcontroller is powered, and serial.baudrate")


def _add_sniff() -> None:
    from edge.cli.sniff_cmd import sniff  # its own module: serial_cmd stays about watch and record

    serial.add_command(sniff)


_add_sniff()
