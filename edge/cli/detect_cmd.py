"""`shelf-node detect IMAGE...`: run the detector on photos, print detections, optionally draw them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.config.detector import DetectorSection


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
    """Detect objects in IMAGE files with the configured model (or --model/--labels)."""
    config = _config_if_wanted(ctx, config_path, need_detector=model is None)
    settings = _detector_settings(config, model, labels)
    results = run_guarded(lambda: _run(images, settings, config, threshold, annotate_dir))
    emit(results, as_json, _render)


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
) -> list[dict[str, Any]]:
    from edge.hw.draw import annotate, read_image
    from edge.vision.detector import Detector
    from edge.vision.regions import regions_from_config

    detector = Detector.load(settings)
    regions = regions_from_config(config.plates) if config else []
    if annotate_dir is not None:
        annotate_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path in images:
        frame = read_image(path)
        detections = sorted(detector.detect(frame, threshold), key=lambda d: -d.score)
        entry: dict[str, Any] = {
            "image": str(path),
            "detections": [
                {"label": d.label, "class_id": d.class_id, "score": d.score, "box": list(d.box)} for d in detections
            ],
        }
        if annotate_dir is not None:
            import cv2

            out = annotate_dir / f"{path.stem}.annotated.jpg"
            cv2.imwrite(str(out), annotate(frame, detections, regions, settings.hand_label))
            entry["annotated"] = str(out)
        results.append(entry)
    return results


def _render(results: list[dict[str, Any]]) -> str:
    rows = []
    for entry in results:
        if not entry["detections"]:
            rows.append([entry["image"], "(nothing above threshold)", None, None])
        for d in entry["detections"]:
            rows.append([entry["image"], d["label"], d["score"], ",".join(str(v) for v in d["box"])])
    return table(["image", "label", "score", "box x1,y1,x2,y2"], rows)
