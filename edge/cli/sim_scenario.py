"""The scenario and shelf layout a `sim` command runs, from --config / --scenario / --seed / --duration /
--interactions / --mixed (shared by edge/cli/sim_cmd.py and edge/cli/sim_frames_cmd.py, which both import it
from here, so neither imports the other's helpers)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edge.cli.common import fail, load_or_fail

if TYPE_CHECKING:
    from edge.config import NodeConfig
    from edge.sim.layout import ShelfLayout
    from edge.sim.scenario import Scenario


def scenario_and_layout(
    config_path: Path | None,
    scenario_path: Path | None,
    seed: int | None,
    duration: float | None,
    interactions: int | None = None,
    mixed: bool = False,
) -> tuple[Scenario, ShelfLayout]:
    """The scenario file's scenario (and the layout it needs), or one generated from the seed on the
    config's plates (default shelf without a config); a bad config or scenario exits with its problems."""
    from edge.errors import ConfigError
    from edge.sim.engine import layout_for
    from edge.sim.generate import generate_scenario
    from edge.sim.layout import ShelfLayout
    from edge.sim.scenario import load_scenario

    if scenario_path is not None and seed is not None:
        fail("give --scenario FILE or --seed N, not both")
    config: NodeConfig | None = load_or_fail(config_path) if config_path else None
    try:
        if scenario_path is not None:
            scenario = load_scenario(scenario_path)
            return scenario, layout_for(scenario, config)
        seed = seed or 0
        layout = ShelfLayout.from_config(config, seed) if config else ShelfLayout.default(seed=seed)
        if mixed:
            from edge.sim.fusion_mix import generate_mixed_scenario

            if interactions is None:
                fail("--mixed generates by --interactions N, not by --duration")
            try:
                scenario = generate_mixed_scenario(seed, layout.plate_names(), interactions)
            except ValueError as exc:
                fail(f"{exc}; a mixed shelf needs a config with at least 4 plates")
            return scenario, layout_for(scenario, config)
        scenario = generate_scenario(seed, duration, layout, interactions=interactions)
        return scenario, layout
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"shelf-node: {problem}", err=True)
        sys.exit(2)
