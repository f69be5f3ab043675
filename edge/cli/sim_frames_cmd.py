"""The rendered camera on the command line: `shelf-node sim frames`, and the `--frames DIR` options of
`sim capture` (offline, next to the capture) and `sim run` (live, at the scenario's pace), and
`sim run --camera-mjpeg HOST:PORT` (live, as an MJPEG stream over HTTP).
Registered on the `sim` group by edge/cli/sim_cmd.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edge.cli.common import fail
from edge.cli.sim_options import (
    F,
    duration_option,
    interactions_option,
    mixed_option,
    photo_options,
    scenario_option,
    seed_option,
)

if TYPE_CHECKING:
    from edge.config import NodeConfig
    from edge.sim.camera import LiveFrames, RenderedCamera
    from edge.sim.camera.mjpeg import MjpegStream
    from edge.sim.pty_shelf import PtyShelf
    from edge.sim.scenario import Scenario
    from edge.sim.truth import TruthRecord


def frames_options(func: F) -> F:
    """--frames DIR, --images DIR, --photos: shared by sim capture / run (sim frames has --out instead)."""
    return click.option(
        "--frames",
        "frames_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Also render the camera's frames here as <unix ms>.jpg (a [camera] source).",
    )(photo_options(func))


def rendered_camera(
    scenario: Scenario,
    truth: Sequence[TruthRecord],
    plate_names: Sequence[str],
    config: NodeConfig | None,
    images_dir: Path | None,
    photos: str,
    fps: float = 10.0,
    idle_fps: float = 1.0,
) -> RenderedCamera:
    from edge.errors import CameraError
    from edge.sim.camera import camera_for
    from edge.sim.camera.photos import DEFAULT_IMAGES

    images = None if images_dir is not None and str(images_dir) == "none" else (images_dir or DEFAULT_IMAGES)
    plates: Sequence[Any] = list(config.plates) if config is not None else list(plate_names)
    try:
        return camera_for(scenario, truth, plates, images, photos, fps, idle_fps)  # type: ignore[arg-type]
    except CameraError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"cannot render the camera: {exc}")


def write_capture_frames(camera: RenderedCamera, directory: Path, t0: float, t1: float) -> str:
    """Offline frames for [t0, t1]; the one summary line to print."""
    from edge.errors import CameraError
    from edge.sim.camera import write_frames

    try:
        written = write_frames(camera, directory, t0, t1)
    except CameraError as exc:
        fail(str(exc))
    return f"{directory}: {written.frames} frames, {written.bytes / 1e6:.1f} MB"


def camera_mjpeg_option(func: F) -> F:
    """--camera-mjpeg HOST:PORT: the live camera as an MJPEG stream (sim run)."""
    return click.option(
        "--camera-mjpeg",
        "camera_mjpeg",
        metavar="HOST:PORT",
        default=None,
        help="Serve the camera live as an MJPEG stream on http://HOST:PORT/camera.mjpg (a [camera] source, "
        "read as an IP camera is); PORT alone = loopback, port 0 = a free one. Not with --frames.",
    )(func)


def live_camera(
    shelf: PtyShelf, scenario: Scenario, config: NodeConfig | None, images_dir: Path | None, photos: str
) -> tuple[RenderedCamera, float]:
    """The camera of a live shelf, on its wall clock (the truth shifted by its start time and speed), and
    the wall-clock time its scenario ends."""
    truth = [r.shifted(shelf.start_time, shelf.speed) for r in shelf.sim.truth]
    camera = rendered_camera(scenario, truth, shelf.sim.layout.plate_names(), config, images_dir, photos)
    return camera, shelf.start_time + scenario.end_s() / shelf.speed


def start_live_frames(
    shelf: PtyShelf,
    scenario: Scenario,
    directory: Path,
    config: NodeConfig | None,
    images_dir: Path | None,
    photos: str,
) -> LiveFrames:
    """Frames of a live shelf written into `directory` at their wall-clock times."""
    from edge.errors import CameraError
    from edge.sim.camera import LiveFrames

    camera, until = live_camera(shelf, scenario, config, images_dir, photos)
    try:
        return LiveFrames(camera, directory, until).start()
    except CameraError as exc:
        fail(str(exc))


def bind_stream(address: str) -> MjpegStream:
    """The MJPEG stream's server on --camera-mjpeg HOST:PORT, bound (not yet serving): checked before the
    shelf starts, so a port in use stops nothing."""
    from edge.errors import CameraError
    from edge.sim.camera.mjpeg import MjpegStream, parse_address

    try:
        host, port = parse_address(address)
    except ValueError as exc:
        fail(f"--camera-mjpeg {exc}")
    try:
        return MjpegStream(host, port)
    except CameraError as exc:
        fail(str(exc))


def start_live_stream(
    stream: MjpegStream,
    shelf: PtyShelf,
    scenario: Scenario,
    config: NodeConfig | None,
    images_dir: Path | None,
    photos: str,
) -> MjpegStream:
    """The live shelf's frames served on `stream`; says on stderr the URL to give [camera] source."""
    camera, until = live_camera(shelf, scenario, config, images_dir, photos)
    stream.start(camera, until)
    click.echo(f'shelf-node: camera stream on {stream.url} (node config: [camera] source = "{stream.url}")', err=True)
    return stream


@click.command("frames")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Node config: its plates (and their roi, if every plate has one) make the view.",
)
@scenario_option
@seed_option
@interactions_option
@duration_option
@mixed_option
@click.option("--start-time", type=float, default=None, help="Unix time of scenario second 0 (default: sim capture's).")
@click.option("--fps", type=click.FloatRange(0.1, 60), default=10.0, show_default=True, help="Rate while hands move.")
@click.option("--idle-fps", type=click.FloatRange(0.1, 60), default=1.0, show_default=True, help="Rate otherwise.")
@photo_options
@click.option("--print-roi", is_flag=True, help="Print the plates' roi lines for the node config, then exit.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Frame directory (<unix ms>.jpg), e.g. beside the capture of the same scenario.",
)
def frames(
    config_path: Path | None,
    scenario_path: Path | None,
    seed: int | None,
    interactions: int | None,
    duration: float | None,
    mixed: bool,
    start_time: float | None,
    fps: float,
    idle_fps: float,
    images_dir: Path | None,
    photos: str,
    print_roi: bool,
    out_dir: Path,
) -> None:
    """Render the shelf camera's frames of a scenario: the same seed and options as `sim capture` give
    the frames of that capture (same clock), byte-identical every time."""
    from edge.cli.common import load_or_fail
    from edge.cli.sim_scenario import scenario_and_layout
    from edge.sim.engine import Simulation
    from edge.sim.offline import DEFAULT_START

    if fps < idle_fps:
        fail(f"--fps ({fps:g}) must be at least --idle-fps ({idle_fps:g})")
    if scenario_path is None and interactions is None and duration is None:
        interactions = 100 if mixed else None
        duration = None if mixed else 120.0
    scenario, layout = scenario_and_layout(config_path, scenario_path, seed, duration, interactions, mixed)
    config = load_or_fail(config_path) if config_path else None
    start = start_time if start_time is not None else DEFAULT_START
    truth = [r.shifted(start) for r in Simulation(scenario, layout, 10.0).truth]
    camera = rendered_camera(scenario, truth, layout.plate_names(), config, images_dir, photos, fps, idle_fps)
    if print_roi:
        click.echo(camera.view.roi_lines())
        return
    click.echo(write_capture_frames(camera, out_dir, start, start + scenario.end_s()))
