"""`shelf-node demo`: the whole node on a simulated shelf, with a private broker (./scripts/demo);
`shelf-node demo publish`: synthetic events through the real outbox and link."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edge.cli.common import config_option, load_or_fail, run_guarded


@click.group(invoke_without_command=True)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, help="Logs, config, ground truth and node state go here (emptied first).")
@click.option("--seed", type=int, default=1, show_default=True, help="Scenario and shelf seed.")
@click.option("--duration", type=click.FloatRange(1), default=None,
              help="Stop this many seconds after the node is weighing (or after the daemon started, if it never "
                   "is), between two interactions.")
@click.option("--sps", type=click.FloatRange(1, 1000), default=80.0, show_default=True)
@click.option("--plain", is_flag=True, help="Print one line per event instead of redrawing the screen.")
@click.option("--camera", is_flag=True,
              help="Also render the shelf camera (photos from ../shared/images) into WORKDIR/frames and give the "
                   "daemon a [camera] on it (with the detector from ../shared/models when there): flagged item "
                   "events carry review pictures (shelf-node review list --config WORKDIR/node.toml).")
@click.option("--camera-mjpeg", "camera_stream", is_flag=True,
              help="As --camera, but the camera is an MJPEG stream on a free loopback port (shown), which the "
                   "daemon reads as an IP camera.")
@click.pass_context
def demo(ctx: click.Context, workdir: Path, seed: int, duration: float | None, sps: float, plain: bool,
         camera: bool, camera_stream: bool) -> None:
    """Simulated shelf -> daemon -> local mosquitto -> events as the hub sees them. Ctrl-C stops everything."""
    if ctx.invoked_subcommand is not None:
        return
    from edge.demo.runner import run_demo

    result = run_demo(workdir.resolve(), seed, duration, sys.stdout, live=sys.stdout.isatty() and not plain, sps=sps,
                      camera=camera, camera_stream=camera_stream)
    ok = result.invalid == 0 and result.daemon_exit == 0
    raise SystemExit(0 if ok else 1)


@demo.command("publish")
@config_option
@click.option("--count", type=click.IntRange(min=0), default=0, show_default=True,
              help="Events to append (0 = only drain the backlog).")
@click.option("--rate", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Events/s to append; 0 = as fast as possible.")
@click.option("--until-drained", type=click.FloatRange(min=0), default=None, metavar="S",
              help="After appending, wait up to S seconds for an empty outbox, then stop cleanly.")
@click.option("--no-link", is_flag=True, help="Only append (the broker is 'down' for the node).")
def publish_cmd(config_path: Path, count: int, rate: float, until_drained: float | None, no_link: bool) -> None:
    """Append synthetic weight events to the node's outbox and deliver them with the real MQTT link."""
    from edge.demo.publisher import publish

    config = load_or_fail(config_path)
    run_guarded(lambda: publish(config, count, rate, until_drained, not no_link,
                                click.echo))
