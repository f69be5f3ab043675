"""`shelf-node sim`: the shelf simulator (live on a pty, or offline to a capture + ground truth)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edge.cli.common import fail, load_or_fail
from edge.cli.sim_frames_cmd import (
    bind_stream,
    camera_mjpeg_option,
    frames,
    frames_options,
    rendered_camera,
    start_live_frames,
    start_live_stream,
    write_capture_frames,
)
from edge.cli.sim_options import duration_option, interactions_option, mixed_option, scenario_option, seed_option
from edge.cli.sim_scenario import scenario_and_layout

if TYPE_CHECKING:
    from edge.config import NodeConfig
    from edge.sim.camera import LiveFrames
    from edge.sim.camera.mjpeg import MjpegStream
    from edge.sim.pty_shelf import PtyShelf

_config = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Node config: the simulator takes its channels and plates from it.",
)
_sps = click.option("--sps", type=click.FloatRange(1, 2000), default=80.0, show_default=True, help="Samples/s.")
_protocol = click.option(
    "--protocol", type=click.Choice(["framed", "plain"]), default=None, help="Default: the config's, else framed."
)


@click.group()
def sim() -> None:
    """Simulated shelf microcontroller: a pty playing the MCU, or offline captures with ground truth."""


sim.add_command(frames)  # the rendered camera (edge/cli/sim_frames_cmd.py)


@sim.command("run")
@_config
@scenario_option
@seed_option
@click.option("--duration", type=click.FloatRange(1), default=600.0, show_default=True, help="Generated length, s.")
@_sps
@_protocol
@click.option("--link", type=click.Path(path_type=Path), default=None, help="Keep a symlink here to the pty.")
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append each action's ground truth here (JSON lines) as it begins.",
)
@click.option("--speed", type=click.FloatRange(0.01, 1000), default=1.0, show_default=True, help="x real time.")
@click.option("--interactive", is_flag=True, help="Read pick/put/unplug/replug/status commands from stdin.")
@click.option(
    "--planogram-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the scenario's catalogue + planogram as a planogram v2 JSON file (for the node / replay).",
)
@frames_options
@camera_mjpeg_option
def run(
    config_path: Path | None,
    scenario_path: Path | None,
    seed: int | None,
    duration: float,
    sps: float,
    protocol: str | None,
    link: Path | None,
    truth_path: Path | None,
    speed: float,
    interactive: bool,
    planogram_out: Path | None,
    frames_dir: Path | None,
    images_dir: Path | None,
    photos: str,
    camera_mjpeg: str | None,
) -> None:
    """Play a scenario on a pty; prints the pty path (and link) on the first line, runs until Ctrl-C or the end.

    With --interactive it keeps running after the scenario (an idle shelf) and takes commands on stdin,
    one per line (`pick p1`, `put p2 cola-330`, `unplug`, `replug`, `status`), answering each on stdout.
    With --camera-mjpeg it says on stderr the URL of the camera's stream.
    """
    from edge.sim.pty_shelf import PtyShelf

    if frames_dir is not None and camera_mjpeg is not None:
        fail(
            "give --frames DIR or --camera-mjpeg HOST:PORT, not both (`shelf-node serial record --frames DIR` "
            "records the stream's frames)"
        )

    scenario, layout = scenario_and_layout(config_path, scenario_path, seed, duration)
    config = load_or_fail(config_path) if config_path else None
    protocol = protocol or (config.serial.protocol if config else "framed")
    units = config.serial.plain_units if config else "counts"
    _warn_bandwidth(config, layout.channels, sps, protocol)
    if planogram_out is not None:  # what the node's [fusion] planogram (or replay --planogram) names items by
        from edge.sim.planogram_doc import planogram_document

        try:
            planogram_out.write_text(json.dumps(planogram_document(scenario), indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {planogram_out}: {exc.strerror or exc}")
    stream = bind_stream(camera_mjpeg) if camera_mjpeg is not None else None
    shelf = PtyShelf(scenario, layout, sps, protocol, speed, link, truth_path, units, endless=interactive)  # type: ignore[arg-type]
    try:
        shelf.start()
    except OSError as exc:
        if stream is not None:
            stream.stop()
        fail(f"cannot start the simulated shelf: {exc}; check that the --link and --truth directories exist")
    live: LiveFrames | MjpegStream | None = None
    try:
        if frames_dir is not None:
            live = start_live_frames(shelf, scenario, frames_dir, config, images_dir, photos)
        elif stream is not None:
            live = start_live_stream(stream, shelf, scenario, config, images_dir, photos)
    except SystemExit:  # the camera could not start (no photos, a frame directory not writable): nor the shelf
        shelf.stop()
        if stream is not None:
            stream.stop()
        raise
    click.echo(f"{shelf.slave_path}" + (f" {link}" if link else ""))
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: shelf.request_stop())
    try:
        if interactive:
            _console(shelf)
        while not shelf.finished.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        shelf.stop()
        if live is not None:
            live.stop()
    click.echo(
        f"sent {shelf.lines_sent} lines, lost {shelf.lines_lost}, answered {shelf.queries_answered} queries", err=True
    )
    if shelf.error:
        fail(f"{shelf.error}; check the pty / link directory and try again")


def _console(shelf: PtyShelf) -> None:
    from edge.sim.console import handle

    for line in sys.stdin:
        if line.strip().lower() in {"quit", "exit"}:
            shelf.request_stop()
            return
        answer = handle(shelf, line)
        if answer:
            click.echo(answer)
            sys.stdout.flush()
    shelf.request_stop()  # stdin closed: the demo is over


@sim.command("capture")
@_config
@scenario_option
@seed_option
@interactions_option
@duration_option
@_sps
@_protocol
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Ground truth output (JSON lines, one per action).",
)
@click.option("--start-time", type=float, default=None, help="Unix time of the first sample (default fixed).")
@click.option(
    "--planogram-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the scenario's catalogue + planogram as a planogram v2 JSON file (for the node / replay).",
)
@mixed_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@frames_options
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def capture(
    config_path: Path | None,
    scenario_path: Path | None,
    seed: int | None,
    interactions: int | None,
    duration: float | None,
    sps: float,
    protocol: str | None,
    truth_path: Path,
    start_time: float | None,
    planogram_out: Path | None,
    mixed: bool,
    as_json: bool,
    frames_dir: Path | None,
    images_dir: Path | None,
    photos: str,
    out: Path,
) -> None:
    """Write OUT (capture file) and --truth (JSON lines) as fast as the CPU allows."""
    from edge.sim.offline import DEFAULT_START, simulate_to_capture
    from edge.sim.planogram_doc import planogram_document

    if scenario_path is None and interactions is None and duration is None:
        interactions = 2000
    scenario, layout = scenario_and_layout(config_path, scenario_path, seed, duration, interactions, mixed)
    config = load_or_fail(config_path) if config_path else None
    node = config.node.node_id if config else None
    _warn_bandwidth(config, layout.channels, sps, protocol or (config.serial.protocol if config else "framed"))
    try:
        result = simulate_to_capture(
            scenario,
            out,
            truth_path,
            start_time or DEFAULT_START,
            protocol or (config.serial.protocol if config else "framed"),  # type: ignore[arg-type]
            sps,
            layout=layout,
            node=node,
            plain_units=config.serial.plain_units if config else "counts",
        )
        if planogram_out is not None:
            planogram_out.write_text(json.dumps(planogram_document(scenario), indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}, {truth_path} or the planogram: {exc}")
    if frames_dir is not None:  # the rendered camera's frames of this capture, on its clock
        start = start_time or DEFAULT_START
        camera = rendered_camera(scenario, result.truth, layout.plate_names(), config, images_dir, photos)
        frames_line = write_capture_frames(camera, frames_dir, start, start + result.duration_s)
        if not as_json:  # --json prints one JSON document: the line goes into it
            click.echo(frames_line)
    counts: dict[str, int] = {}
    for record in result.truth:
        counts[record.kind] = counts.get(record.kind, 0) + 1
    summary: dict[str, Any] = {
        "capture": str(out),
        "truth": str(truth_path),
        "lines": result.lines,
        "samples": result.samples,
        "duration_s": round(result.duration_s, 3),
        "actions": counts,
        "expect_event": sum(1 for r in result.truth if r.expect_event),
    }
    if frames_dir is not None:
        summary["frames"] = frames_line
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        click.echo(f"{out}: {result.lines} lines, {result.duration_s:.0f} s simulated; {truth_path}: {kinds}")


@sim.command("generate")
@_config
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--interactions", type=click.IntRange(1), default=None, help="This many pick/put/restock ...")
@click.option("--duration", type=click.FloatRange(1), default=None, help="... or this many seconds (default 120).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: stdout.")
@mixed_option
def generate(
    config_path: Path | None,
    seed: int,
    interactions: int | None,
    duration: float | None,
    output: Path | None,
    mixed: bool,
) -> None:
    """Write a generated scenario as TOML, to edit by hand and play with `sim run --scenario`."""
    from edge.sim.scenario_toml import scenario_to_toml

    if interactions is None and duration is None:
        if mixed:
            interactions = 100
        else:
            duration = 120.0
    scenario, _ = scenario_and_layout(config_path, None, seed, duration, interactions, mixed)
    text = scenario_to_toml(scenario)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    click.echo(f"{output}: {len(scenario.actions)} actions over {scenario.end_s():.0f} s")


def _warn_bandwidth(config: NodeConfig | None, channels: int, sps: float, protocol: str) -> None:
    """A real MCU cannot send faster than its baud rate: say so instead of simulating the impossible."""
    from edge.sim.mcu import bytes_per_second

    if config is None:
        return
    need, have = bytes_per_second(channels, sps, protocol), config.serial.baudrate / 10  # type: ignore[arg-type]
    if need > 0.9 * have:
        click.echo(
            f"shelf-node: warning: {sps:g} SPS x {channels} channels needs ~{need / 1000:.1f} kB/s but "
            f"{config.serial.baudrate} baud carries {have / 1000:.1f} kB/s; lower --sps or raise serial.baudrate",
            err=True,
        )
