"""One simulated shelf: scenario -> resolver -> renderer -> MCU encoder, block by block.

Offline (`edge.sim.offline`) and live (`edge.sim.pty_shelf`) both drive this class, so the same
seed gives the same lines either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from edge.errors import ConfigError
from edge.sim.layout import PlateSpec, ShelfLayout
from edge.sim.mcu import Line, McuEncoder, Protocol
from edge.sim.physics import Physics
from edge.sim.render import Block, Renderer
from edge.sim.resolve import Resolver
from edge.sim.scenario import Scenario
from edge.sim.tags import timeline_tags
from edge.sim.truth import TruthRecord

if TYPE_CHECKING:
    from edge.config import NodeConfig


def layout_for(scenario: Scenario, config: NodeConfig | None = None, physics: Physics | None = None) -> ShelfLayout:
    """The node config's wiring when given (the simulator then matches the node it feeds),
    else the scenario's [shelf], else one plate per planogram slot with two cells each.
    Physics: `physics` if given, else the defaults with the scenario's [physics] overrides."""
    physics = physics or scenario.physics_model()
    if config is not None:
        layout = ShelfLayout.from_config(config, scenario.seed, physics)
    elif scenario.shelf is not None:
        plates = [PlateSpec(p.name, tuple(p.channels)) for p in scenario.shelf.plates]
        layout = ShelfLayout.build(plates, scenario.shelf.channels, scenario.seed, physics)
    else:
        names = list(dict.fromkeys(slot.plate for slot in scenario.planogram))
        plates = [PlateSpec(name, (2 * i, 2 * i + 1)) for i, name in enumerate(names)]
        layout = ShelfLayout.build(plates, 2 * len(plates), scenario.seed, physics)
    return _calibrated(layout, scenario)


def _calibrated(layout: ShelfLayout, scenario: Scenario) -> ShelfLayout:
    """Apply the scenario's fixed [calibration], if any, checking it has one value per channel."""
    fixed = scenario.calibration
    if fixed is None:
        return layout
    for key, values in (("counts_per_gram", fixed.counts_per_gram), ("offsets", fixed.offsets)):
        if values is not None and len(values) != layout.channels:
            raise ConfigError(
                f"calibration.{key}: {len(values)} values for {layout.channels} channels; give one per channel"
            )
    scale = layout.counts_per_gram if fixed.counts_per_gram is None else np.asarray(fixed.counts_per_gram, float)
    offsets = layout.offsets if fixed.offsets is None else np.asarray(fixed.offsets, dtype=np.int64)
    return replace(layout, counts_per_gram=scale, offsets=offsets)


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        layout: ShelfLayout,
        sps: float = 80.0,
        protocol: Protocol = "framed",
        plain_units: Literal["counts", "grams"] = "counts",
        noise: bool = True,
        block_s: float = 1.0,
    ) -> None:
        if sps <= 0 or sps > 2000:
            raise ValueError(f"sps must be in (0, 2000], got {sps}")
        self.scenario = scenario
        self.layout = layout
        self.sps = sps
        self.resolver = Resolver(scenario, layout)
        self.resolver.resolve_all()
        self.renderer = Renderer(self.resolver, sps, scenario.seed, block_s=block_s, noise=noise)
        self.encoder = McuEncoder(layout, sps, protocol, self.resolver.faults, scenario.seed, plain_units)

    @property
    def truth(self) -> list[TruthRecord]:
        """Every action so far, scenario seconds (use `.shifted(start_time)` for unix time)."""
        return timeline_tags([r.truth for r in self.resolver.resolved])

    def step(self) -> tuple[Block, list[Line]]:
        block = self.renderer.next_block()
        return block, self.encoder.encode(block)

    def plate_grams(self, physical: np.ndarray) -> dict[str, float]:
        row = physical if physical.ndim == 1 else physical[-1]
        return {p.name: float(row[list(p.channels)].sum()) for p in self.layout.plates}

    def capture_header(self, node: str, start_time: float) -> dict[str, str]:
        return {
            "node": node,
            "protocol": self.encoder.protocol,
            "channels": str(self.layout.channels),
            "sps": f"{self.sps:g}",
            "source": f"sim seed={self.scenario.seed} scenario={self.scenario.name}",
            "start_time": f"{start_time:.6f}",
            **self.layout.calibration_header(),
        }
