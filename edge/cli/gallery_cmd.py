"""`shelf-node gallery [status|export|check]`: the node's labelled crops (docs/gallery.md).

They read the gallery file itself (read-only), so they work with the daemon running or stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.config.gallery import ExamplesFrom
from edge.gallery import Gallery
from edge.planogram import Planogram, PlanogramStore, load_planogram_file


def _open(config: NodeConfig) -> Gallery:
    gallery: Gallery = run_guarded(lambda: Gallery.for_config(config, readonly=True))
    return gallery


@click.group()
def gallery() -> None:
    """Labelled crops the node gathered: status, export as a dataset, splitter trust per plate."""


@gallery.command("status")
@config_option
@json_option
def status_cmd(config_path: Path, as_json: bool) -> None:
    """SKUs with their crop counts, bytes and ages; crops waiting for a reviewer; review answers."""
    box = _open(load_or_fail(config_path))
    try:
        emit(box.status().to_json(per_sku=True), as_json, _render_status)
    finally:
        box.close()


def _render_status(status: dict[str, Any]) -> str:
    now = time.time()
    rows = [[s["sku"], s["count"], _kb(s["bytes"]), _age(now - s["oldest_t"]), _age(now - s["newest_t"]),
             ", ".join(f"{k} {v}" for k, v in sorted(s["sources"].items()))] for s in status["skus"]]
    reviews = status["reviews"]
    lines = [table(["sku", "crops", "size", "oldest", "newest", "sources"], rows) if rows else "no crops yet",
             f"{status['examples']} crop(s), {_kb(status['bytes'])} in {status['path']}; "
             f"{status['pending']} waiting for a reviewer; {status['items']} item event(s) remembered",
             f"review answers: {reviews['answered']} ({reviews['node_right']} node right, {reviews['node_wrong']} "
             f"wrong; {reviews['accepted_answered']} about accepted events, {reviews['accepted_wrong']} wrong)"]
    return "\n".join(lines)


@gallery.command("export")
@config_option
@json_option
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_cmd(config_path: Path, as_json: bool, directory: Path) -> None:
    """Write the crops as DIRECTORY/images/<sku>/<id>.jpg, their labels as DIRECTORY/labels.csv and the reviewed
    outcomes as DIRECTORY/outcomes.csv (a new or empty directory)."""
    from edge.gallery.export import export_dataset

    box = _open(load_or_fail(config_path))
    try:
        result = run_guarded(lambda: export_dataset(box, directory))
    finally:
        box.close()
    emit(result.to_json(), as_json, lambda r: f"exported {r['images']} crop(s) of {r['skus']} SKU(s), "
                                               f"{_kb(r['bytes'])}, to {r['directory']} (labels.csv, outcomes.csv)")


@gallery.command("check")
@config_option
@json_option
@click.option("--planogram", "planogram_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Planogram file [default: the one the node holds, else [fusion] planogram].")
@click.option("--min-accuracy", type=click.FloatRange(0.5, 1.0), default=None,
              help="Leave-one-out accuracy a plate's splitter needs to be trusted [default: [gallery] min_accuracy, "
                   "as the daemon uses it].")
@click.option("--examples-from", type=click.Choice(["plate", "any_plate"]), default=None,
              help="A look-alike plate's splitter learns from its SKUs' crops taken on that plate, or on any plate "
                   "[default: [gallery] examples_from, as the daemon uses it].")
@click.option("--colour-only", is_flag=True, help="Colour descriptors only, without the detector's backbone "
                                                   "features (no model needed; faster).")
def check_cmd(config_path: Path, as_json: bool, planogram_path: Path | None, min_accuracy: float | None,
              examples_from: ExamplesFrom | None, colour_only: bool) -> None:
    """Per plate with look-alikes (weight twins: same labels, or labels the camera may not see): is the splitter
    trusted, and how many more examples per SKU it needs."""
    from edge.gallery.check import check_gallery
    from edge.vision.appearance_embed import CropEmbedder

    config = load_or_fail(config_path)
    planogram = _planogram(config, planogram_path)
    model = None if colour_only or config.detector is None else config.detector.model
    embedder: CropEmbedder = run_guarded(lambda: CropEmbedder(model))
    box = _open(config)
    try:
        accuracy = config.gallery.min_accuracy if min_accuracy is None else min_accuracy
        scope = examples_from or config.gallery.examples_from
        checks = run_guarded(lambda: check_gallery(box, planogram, lambda crop: embedder.embed(crop).combined(),
                                                   accuracy, config.gallery.min_examples, scope))
    finally:
        box.close()
    emit([c.to_json() for c in checks], as_json, lambda rows: _render_checks(rows, scope))


def _planogram(config: NodeConfig, path: Path | None) -> Planogram:
    plates = config.plate_names()
    if path is not None:
        found: Planogram = run_guarded(lambda: load_planogram_file(path, plates))
        return found
    held: Planogram | None = run_guarded(lambda: PlanogramStore(config.node.state_dir, plates).load())
    if held is not None:
        return held
    configured_path = config.fusion.planogram
    if configured_path is not None:
        configured: Planogram = run_guarded(lambda: load_planogram_file(configured_path, plates))
        return configured
    fail("no planogram: the node holds none yet and [fusion] planogram is unset; give one with --planogram FILE")


def _render_checks(checks: list[dict[str, Any]], examples_from: str) -> str:
    if not checks:
        return "no plate has look-alikes (weight twins on one plate): nothing to check"
    where = "that plate" if examples_from == "plate" else "any plate of the node"
    rows = [[c["plate"], ", ".join(f"{s} {c['examples'][s]}" for s in c["skus"]), "yes" if c["trusted"] else "no",
             c["accuracy"], "-" if c["needed_more"] is None else c["needed_more"], c["reason"]] for c in checks]
    return (table(["plate", "crops per look-alike", "trusted", "loo accuracy", "more per sku", "why"], rows)
            + f"\ncrops taken on {where} ([gallery] examples_from = {examples_from})")


def _kb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
