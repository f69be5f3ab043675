"""`shelf-node camera`: look through the shelf camera (snapshot with regions and detections, info)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.errors import CameraError


@click.group()
def camera() -> None:
    """Shelf camera tools."""


@camera.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option("--no-detect", is_flag=True, help="Draw plate regions only, do not run the detector.")
@json_option
def snapshot(out: Path, config_path: Path, no_detect: bool, as_json: bool) -> None:
    """Write one frame from the camera to OUT (.jpg, or .png) with plate regions and current detections drawn."""
    config = load_or_fail(config_path)
    data = run_guarded(lambda: _snapshot(config, out, no_detect))
    emit(data, as_json, lambda d: f"wrote {d['out']} ({len(d['detections'])} detections drawn)")


@camera.command()
@config_option
@json_option
def info(config_path: Path, as_json: bool) -> None:
    """Open the camera, grab a frame and report its source, size and plates with regions."""
    config = load_or_fail(config_path)
    data = run_guarded(lambda: _info(config))
    emit(data, as_json, lambda d: table(["key", "value"], sorted(d.items())))


def _grab(config: NodeConfig) -> tuple[float, Any]:
    from edge.hw.camera import open_camera
    from edge.hw.frames import first_frame

    if config.camera is None:
        raise CameraError("the config has no [camera] section; add one with source = ...")
    source = open_camera(config.camera)
    source.open()
    try:
        return first_frame(source, config.camera.dropout_s, poll_s=0.05)
    finally:
        source.close()


def _snapshot(config: NodeConfig, out: Path, no_detect: bool) -> dict[str, Any]:
    from edge.hw.draw import annotate, write_image
    from edge.vision.detector import detection_to_json
    from edge.vision.regions import regions_from_config

    t, image = _grab(config)
    detections = []
    hand_label = "person"
    if config.detector is not None and not no_detect:
        from edge.vision.detector import Detector

        detector = Detector.load(config.detector)
        if detector.label_warning:
            click.echo(f"shelf-node: warning: {detector.label_warning}", err=True)
        detections = sorted(detector.detect(image), key=lambda d: -d.score)
        hand_label = config.detector.hand_label
    assert config.camera is not None
    write_image(out, annotate(image, detections, regions_from_config(config.plates), hand_label),
                config.camera.jpeg_quality)
    return {
        "out": str(out),
        "source": config.camera.source,
        "frame_time": round(t, 3),
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "detector": config.detector is not None and not no_detect,
        "detections": [detection_to_json(d) for d in detections],
    }


def _info(config: NodeConfig) -> dict[str, Any]:
    t, image = _grab(config)
    assert config.camera is not None
    return {
        "source": config.camera.source,
        "frame_time": round(t, 3),
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "plates_with_roi": ",".join(p.name for p in config.plates if p.roi) or "-",
        "idle_fps": config.camera.idle_fps,
        "active_fps": config.camera.active_fps,
    }
