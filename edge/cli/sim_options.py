"""Click options shared by the `sim` commands (edge/cli/sim_cmd.py and edge/cli/sim_frames_cmd.py),
declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

scenario_option = click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Scenario TOML (see config/sim-scenario.toml); default: generated from --seed.",
)
seed_option = click.option("--seed", type=int, default=None, help="Generate a scenario from this seed (default 0).")
interactions_option = click.option(
    "--interactions", type=click.IntRange(1), default=None, help="Generate this many pick/put/restock."
)
duration_option = click.option(
    "--duration", type=click.FloatRange(1), default=None, help="Or generate this many seconds."
)
mixed_option = click.option(
    "--mixed",
    is_flag=True,
    help="Generate the fusion benchmark's kind of shelf: mixed plates, twins, misplaced put-backs, camera outages.",
)


def photo_options(func: F) -> F:
    """--images DIR, --photos: the product photos the rendered camera composites."""
    func = click.option(
        "--photos",
        type=click.Choice(["held_out", "measure", "all"]),
        default="held_out",
        show_default=True,
        help="Which half of the photos to composite (measure: tunes the renderer; held_out: what "
        "figures are reported on; all: demos).",
    )(func)
    return click.option(
        "--images",
        "images_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Product photo directory (default ../shared/images); 'none' paints plain packs.",
    )(func)
