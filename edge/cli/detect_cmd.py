"""`shelf-node detect IMAGE...`: run the detector on photos, print detections, optionally draw them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.config.detector import DetectorSection
from edge.errors import CameraError


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), help="TFLite model (overrides config).")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), help="Label map for --model.")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Minimum score to report [default: the config's score_threshold, else 0.5].",
)
@click.option(
    "--annotate",
    "annotate_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each image with boxes, labels, scores and plate regions to this directory.",
)
@json_option
@click.pass_context
def detect(
    ctx: click.Context,
    images: tuple[Path, ...],
    config_path: Path,
    model: Path | None,
    labels: Path | None,
    threshold: float | None,
    annotate_dir: Path | None,
    as_json: bool,
) -> None:
    """Detect objects in IMAGE files with the configured model (or --model/--labels).

    Prints the results of every readable image; each image that cannot be read (or annotated) gets one
    error line on stderr, and the command then exits 1.
    """
    config = _config_if_wanted(ctx, config_path, need_detector=model is None)
    settings = _detector_settings(config, model, labels)
    results, errors = run_guarded(lambda: _run(images, settings, config, threshold, annotate_dir))
    if results or as_json:
        emit(results, as_json, _render)
    for error in errors:
        click.echo(f"shelf-node: {error}", err=True)
    if errors:
        ctx.exit(1)


def _config_if_wanted(ctx: click.Context, path: Path, need_detector: bool) -> NodeConfig | None:
    # Only a --config on the command line must exist; the default/env path is used when present.
    explicit = ctx.get_parameter_source("config_path") is click.core.ParameterSource.COMMANDLINE
    if explicit or path.is_file():
        return load_or_fail(path)
    if need_detector:
        fail(f"no config at {path} and no --model; pass --config FILE or --model FILE --labels FILE")
    return None


def _detector_settings(config: NodeConfig | None, model: Path | None, labels: Path | None) -> DetectorSection:
    if model is not None:
        if labels is None:
            fail("--model needs --labels FILE (e.g. coco_labels.txt or labelmap.txt next to the model)")
        base = config.detector.model_dump(exclude={"model", "labels", "model_sha256", "labels_sha256"}) if (
            config and config.detector
        ) else {}
        return DetectorSection(model=model, labels=labels, **base)
    if config is None or config.detector is None:
        fail("the config has no [detector] section; add one or pass --model FILE --labels FILE")
    return config.detector


def _run(
    images: tuple[Path, ...],
    settings: DetectorSection,
    config: NodeConfig | None,
    threshold: float | None,
    annotate_dir: Path | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(results of the images that could be read, one error message per image that could not)."""
    from edge.hw.draw import annotate, read_image, write_image
    from edge.vision.detector import Detector, detection_to_json
    from edge.vision.regions import regions_from_config

    detector = Detector.load(settings)
    if detector.label_warning:
        click.echo(f"shelf-node: warning: {detector.label_warning}", err=True)
    regions = regions_from_config(config.plates) if config else []
    if annotate_dir is not None:
        try:
            annotate_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CameraError(f"--annotate {annotate_dir}: cannot create it ({exc.strerror or exc})") from None
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    written: set[Path] = set()
    for path in images:
        try:
            frame = read_image(path)
        except CameraError as exc:
            errors.append(str(exc))
            continue
        detections = sorted(detector.detect(frame, threshold), key=lambda d: -d.score)
        entry: dict[str, Any] = {
            "image": str(path),
            "detections": [detection_to_json(d) for d in detections],
        }
        if annotate_dir is not None:
            out = _annotated_path(annotate_dir, path, written)
            try:
                write_image(out, annotate(frame, detections, regions, settings.hand_label))
            except CameraError as exc:
                errors.append(f"{path}: detected, but the annotated image was not written: {exc}")
            else:
                written.add(out)
                entry["annotated"] = str(out)
        results.append(entry)
    return results, errors


def _annotated_path(directory: Path, image: Path, taken: set[Path]) -> Path:
    """DIR/<stem>.annotated.jpg, or <stem>-2.annotated.jpg ... when another input had the same stem."""
    out = directory / f"{image.stem}.annotated.jpg"
    number = 2
    while out in taken:
        out = directory / f"{image.stem}-{number}.annotated.jpg"
        number += 1
    return out


def _render(results: list[dict[str, Any]]) -> str:
    rows = []
    for entry in results:
        if not entry["detections"]:
            rows.append([entry["image"], "(nothing above threshold)", None, None])
        for d in entry["detections"]:
            rows.append([entry["image"], d["label"], d["score"], ",".join(str(v) for v in d["box"])])
    return table(["image", "label", "score", "box x1,y1,x2,y2"], rows)
