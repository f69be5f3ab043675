"""`shelf-node planogram check FILE [--config NODE.toml] [--json]`: validate and lint a planogram.

Exit 0 when the planogram is valid (twin warnings do not fail it), 2 when it is not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from edge.cli.common import emit, json_option, load_or_fail, table
from edge.errors import ConfigError
from edge.fusion.lint import weight_twins
from edge.planogram import is_format_1, load_planogram_file

DEFAULT_NOISE_G = 1.0


@click.group()
def planogram() -> None:
    """Planogram files: validate, and warn about weight twins before the shelf is stocked."""


@planogram.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Node configuration: check the plates exist and use its weighing noise.")
@json_option
def check(file: Path, config_path: Path | None, as_json: bool) -> None:
    """Validate FILE and list weight twins (which the camera can split and which it cannot)."""
    noise = DEFAULT_NOISE_G
    raw: Any = None  # the file's JSON, read here only when --config does not name the plates
    if config_path is not None:
        config = load_or_fail(config_path)
        plates = config.plate_names()
        noise = config.weighing.initial_noise_g
    else:
        raw = _read_json(file)
        plates = _plates_in(raw)
    try:
        document = load_planogram_file(file, plates)
    except ConfigError as exc:
        if as_json:
            emit({"file": str(file), "valid": False, "problems": exc.problems}, True, str)
        else:
            for problem in exc.problems:
                click.echo(f"shelf-node: {problem}", err=True)
        sys.exit(2)
    twins = weight_twins(document, noise)
    report: dict[str, Any] = {
        "file": str(file), "valid": True, "id": document.id, "version": document.version,
        "format_1": is_format_1(_read_json(file) if raw is None else raw), "catalogue": len(document.catalogue),
        "plates": {name: [slot.sku for slot in slots] for name, slots in document.plates.items()},
        "noise_sigma_g": noise, "twins": [twin.to_json() for twin in twins],
    }
    emit(report, as_json, _render)


def _render(report: dict[str, Any]) -> str:
    lines = [f"{report['file']}: valid planogram {report['id']} v{report['version']}, "
             f"{report['catalogue']} SKUs in the catalogue, {len(report['plates'])} plates"]
    if report["format_1"]:
        lines.append("note: a format 1 document, read as format 2 (weight_tolerance_g taken as 2 sigma); "
                     "see docs/planogram.md to convert it")
    if not report["twins"]:
        lines.append("no weight twins on any plate")
        return "\n".join(lines)
    rows = [[t["plate"], " / ".join(t["skus"]), " ".join(f"{a}x{b}" for a, b in t["counts"][:4]),
             f"{t['closest_g']:.1f}", "yes" if t["camera_can_split"] else "NO", t["why"]] for t in report["twins"]]
    lines.append(f"warning: {len(rows)} weight twin(s): one weight change cannot tell these apart "
                 f"(|n1*w1 - n2*w2| < 3 sigma, noise {report['noise_sigma_g']} g)")
    lines.append(table(["plate", "skus", "counts", "gap_g", "camera_splits", "why"], rows))
    unsplit = sum(1 for t in report["twins"] if not t["camera_can_split"])
    if unsplit:
        lines.append(f"{unsplit} twin(s) the camera cannot split will go to review: move one SKU of each to "
                     f"another plate (re-slotting is cheaper than review)")
    return "\n".join(lines)


def _read_json(file: Path) -> Any:
    """The file's JSON, or None when it cannot be read (load_planogram_file reports the real problem)."""
    try:
        return json.loads(file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def _plates_in(raw: Any) -> list[str]:
    """Without --config every plate the file names is taken as existing."""
    plates = raw.get("plates") if isinstance(raw, dict) else None
    return [str(name) for name in plates] if isinstance(plates, dict) else []
