"""`shelf-node replay`: a capture through the live parser + Weigher, weight events as JSON lines.

Deterministic: capture times, not the wall clock; calibration from the config defaults or a
file given with --calibration (opened read-only), never from the node's mutable state unless
--state-calibration asks for it. One JSON object per line, keys sorted (docs/weighing.md).

A damaged capture line stops the replay: the events found before it are written, the summary says
how far it got, and the exit code is 1. `--skip-bad` skips and counts such lines instead.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, table
from edge.cli.replay_statcam import StatCameraReplay, stat_camera_options, stat_camera_replay
from edge.errors import CalibrationError, CameraError, CaptureError, ConfigError, ModelError, StateError
from edge.fusion import item_event_to_dict
from edge.gallery.frozen import FrozenGallery
from edge.model import ItemEvent
from edge.node.items import ItemStep
from edge.node.replay import Replay, ReplaySummary
from edge.node.replay_appearance import ReplayAppearance
from edge.node.replay_vision import evidence_for, recorded_camera
from edge.planogram import load_planogram_file
from edge.vision.recorded import RecordedCamera
from edge.weighing import CalibrationStore, weight_event_to_dict
from edge.weighing.store import FILE_NAME


@click.command()
@config_option
@click.argument("capture", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), help="Write events here.")
@click.option(
    "--calibration",
    "calibration_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Calibration JSON to use (read-only). Default: the config's defaults.",
)
@click.option("--state-calibration", is_flag=True, help=f"Use state_dir/{FILE_NAME} (read-only).")
@click.option("--planogram", "planogram_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Write fusion's item events instead of weight events, against this planogram (docs/fusion.md).")
@click.option("--frames", "frames_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Recorded <unix ms>.jpg frames of this capture: run the [detector] on them for the item events' "
                   "camera evidence (needs --planogram; docs/vision.md, 'Replay with frames').")
@click.option("--gallery", "gallery_path", type=click.Path(exists=True, path_type=Path),
              help="A node's gallery (a `gallery export` directory, or its gallery.sqlite3 / state directory copied): "
                   "the item events get the appearance factor as the daemon's (needs --frames; docs/vision.md).")
@click.option("--state-gallery", is_flag=True,
              help="Use the node's own gallery ([gallery] path, else state_dir/gallery.sqlite3; read-only).")
@stat_camera_options
@click.option("--skip-bad", is_flag=True,
              help="Skip damaged capture lines (no TAB, no time) and count them, instead of stopping at the first.")
@json_option
def replay(
    config_path: Path,
    capture: Path,
    out_path: Path | None,
    calibration_path: Path | None,
    state_calibration: bool,
    skip_bad: bool,
    as_json: bool,
    planogram_path: Path | None = None,
    frames_dir: Path | None = None,
    gallery_path: Path | None = None,
    state_gallery: bool = False,
    stat_truth: Path | None = None,
    stat_scenario: Path | None = None,
    camera_seed: int | None = None,
) -> None:
    """Replay CAPTURE and write its weight events as JSON lines (stdout unless --out)."""
    config = load_or_fail(config_path)
    if calibration_path and state_calibration:
        fail("give either --calibration FILE or --state-calibration, not both")
    if out_path is not None:
        _refuse_overwriting(out_path, {"the capture": capture, "the --calibration file": calibration_path,
                                       "the config": config_path, "the --planogram file": planogram_path,
                                       "the --stat-camera truth": stat_truth, "the --scenario file": stat_scenario})
    store = None
    if calibration_path:
        store = CalibrationStore(calibration_path, read_only=True)
    elif state_calibration:
        store = CalibrationStore(config.node.state_dir / FILE_NAME, read_only=True)
    items: ItemStep | None = None
    camera: RecordedCamera | None = None
    if frames_dir is not None and planogram_path is None:
        fail("--frames gives camera evidence to item events: add --planogram FILE", 2)
    if gallery_path is not None and state_gallery:
        fail("give either --gallery PATH or --state-gallery, not both", 2)
    if (gallery_path is not None or state_gallery) and frames_dir is None:
        fail("--gallery / --state-gallery describe the item's crop in the recorded frames: add --frames DIR", 2)
    if stat_truth is not None and frames_dir is not None:
        fail("give --frames DIR (recorded frames) or --stat-camera TRUTH (the simulator's statistical camera) for the "
             "item events' camera evidence, not both", 2)
    if stat_truth is not None and planogram_path is None:
        fail("--stat-camera gives camera evidence to item events: add --planogram FILE", 2)
    if (stat_scenario is not None or camera_seed is not None) and stat_truth is None:
        fail("--scenario / --camera-seed set up the statistical camera: add --stat-camera TRUTH", 2)
    appearance: ReplayAppearance | None = None
    statcam: StatCameraReplay | None = None
    if planogram_path is not None:
        try:
            items = ItemStep(config, planogram=load_planogram_file(planogram_path, config.plate_names()))
            camera = recorded_camera(config, frames_dir) if frames_dir is not None else None
            if stat_truth is not None:
                statcam = stat_camera_replay(config, capture, items.planogram, stat_truth, stat_scenario, camera_seed)
            if camera is not None and (gallery_path is not None or state_gallery):
                gallery = FrozenGallery.open(gallery_path) if gallery_path else FrozenGallery.of_node(config)
                appearance = ReplayAppearance.build(config, camera, items.stage, lambda: items.planogram, gallery)
        except ConfigError as exc:
            fail(str(exc), 2)
        except (CameraError, ModelError, StateError) as exc:
            fail(str(exc))
    show_progress = sys.stderr.isatty()
    stopped: str | None = None  # why the replay stopped before the end of the capture
    try:
        with ExitStack() as stack:
            bar = None
            if show_progress:
                bar = stack.enter_context(
                    click.progressbar(length=capture.stat().st_size, label="replay", file=sys.stderr)
                )
            run = Replay(config, capture, store, on_line=bar.update if bar else None, skip_bad=skip_bad)
            out: IO[str] = stack.enter_context(out_path.open("w", encoding="utf-8")) if out_path else sys.stdout
            try:
                for index, (t_emit, event) in enumerate(run.events(), start=1):
                    if items is not None:  # without --frames the items rest on weight + planogram (camera absent)
                        camera_ok, evidence = evidence_for(camera, event, t_emit) if camera else (None, None)
                        if statcam is not None:  # the statistical camera instead of frames (edge/cli/replay_statcam.py)
                            camera_ok, evidence = statcam.evidence_for(event, t_emit)
                        if appearance is not None and evidence:  # as the daemon: after the evidence, before fusion
                            evidence = appearance.describe(event, evidence)
                        _write_items(out, items.weight_event(event, evidence, camera_ok, t_emit, None, index))
                        continue
                    record = weight_event_to_dict(event)
                    record["t_emit_unix"] = round(t_emit, 6)
                    out.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
            except CaptureError as exc:  # a damaged line: keep what was found before it, then say where
                stopped = str(exc)
            if items is not None:
                _write_items(out, items.flush())
    except (CaptureError, CalibrationError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {out_path}: {exc.strerror or exc}" if out_path else f"replay failed: {exc}")
    summary = run.summary()
    data = summary.to_json()
    if camera is not None:
        data["camera"] = camera.stats().to_json()
    if appearance is not None:
        data["appearance"] = appearance.summary()
        appearance.close()
    if statcam is not None:
        data["stat_camera"] = statcam.summary()
    if stopped is not None:
        data["stopped"] = stopped
    text = _render(summary, camera, data.get("appearance")) + (f"\n{statcam.render()}" if statcam else "")
    if out_path is None:
        # stdout carries the events; the summary goes to stderr so pipes stay clean
        click.echo(text, err=True)
    else:
        emit(data, as_json, lambda _: text)
    if stopped is not None:
        fail(f"replay stopped early, {summary.events} events written: {stopped}")


def _write_items(out: IO[str], items: list[ItemEvent]) -> None:
    for item in items:  # the weight event's seq is its 1-based index in the replay
        out.write(json.dumps(item_event_to_dict(item), sort_keys=True, separators=(",", ":")) + "\n")


def _refuse_overwriting(out_path: Path, inputs: dict[str, Path | None]) -> None:
    """--out is opened for writing before the capture is read: pointing it at an input would erase it."""
    for what, path in inputs.items():
        if path is not None and out_path.exists() and out_path.resolve() == path.resolve():
            fail(f"--out {out_path} is {what}; writing the events there would erase it. Give another file")


def _render(summary: ReplaySummary, camera: RecordedCamera | None = None,
            appearance: dict[str, Any] | None = None) -> str:
    reading = summary.reading
    rows = [
        [name, plate.grams, plate.noise_sigma_g, plate.state, ",".join(map(str, plate.faulty_channels))]
        for name, plate in summary.weighing.plates.items()
    ]
    head = (
        f"{summary.capture}: {summary.serial.lines} lines, {summary.frames} frames, "
        f"{summary.events} weight events, {summary.serial.errors} bad lines"
    )
    if reading.skipped_lines:
        first = ", ".join(f"line {s.line} ({s.reason})" for s in reading.first_skipped[:3])
        head += f"\n{reading.skipped_lines} damaged capture lines skipped: {first}"
        if reading.skipped_lines > 3:
            head += ", ..."
    if reading.time_backwards:
        head += (f"\ntime ran backwards {reading.time_backwards} times "
                 f"(largest step {round(reading.largest_backward_step_s, 6)} s)")
    if camera is not None:
        stats = camera.stats()
        invokes = stats.detected + stats.windows
        head += (f"\nframes: {stats.frames_pushed} read, {stats.detected} detected (+ {stats.windows} plate windows, "
                 f"{stats.detect_ms / max(1, invokes):.1f} ms per invoke), {stats.bad_frames} bad")
    if appearance is not None:
        plates = ", ".join(f"{p['plate']} {'trusted' if p['trusted'] else 'not trusted'} "
                           f"({', '.join(f'{k} {v}' for k, v in p['examples'].items())})" for p in appearance["plates"])
        counters = appearance["counters"]
        head += (f"\nappearance: gallery {appearance['gallery']}: {plates or 'no plate with look-alikes'}; "
                 f"{counters['described']} crops described, {counters['not_seen']} not seen")
    return head + "\n" + table(["plate", "grams", "noise_g", "state", "faulty_ch"], rows)
