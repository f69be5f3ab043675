"""Write a scenario as a capture file plus its ground truth, as fast as the CPU allows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edge.loadcell.recording import CaptureWriter
from edge.sim.engine import Simulation, layout_for
from edge.sim.layout import ShelfLayout
from edge.sim.mcu import Protocol
from edge.sim.physics import Physics
from edge.sim.scenario import Scenario
from edge.sim.truth import TruthRecord, write_truth

if TYPE_CHECKING:
    from edge.config import NodeConfig

DEFAULT_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed default keeps output reproducible


@dataclass(frozen=True)
class CaptureResult:
    capture_path: Path
    truth_path: Path
    lines: int
    samples: int
    duration_s: float
    truth: list[TruthRecord]  # unix times
    layout: ShelfLayout


def simulate_to_capture(
    scenario: Scenario,
    capture_path: str | Path,
    truth_path: str | Path,
    start_time: float = DEFAULT_START,
    protocol: Protocol = "framed",
    sps: float = 80.0,
    config: NodeConfig | None = None,
    layout: ShelfLayout | None = None,
    physics: Physics | None = None,
    plain_units: Literal["counts", "grams"] = "counts",
    node: str | None = None,
) -> CaptureResult:
    """Render the whole scenario; capture lines carry unix times from `start_time`.

    The capture header names node, protocol, channels, sps and the seed, plus the simulated
    calibration (`sim_counts_per_gram`, `sim_offsets`) and wiring (`plates`) for benchmarks.
    """
    layout = layout or layout_for(scenario, config, physics)
    sim = Simulation(scenario, layout, sps, protocol, plain_units)
    node_name = node or (config.node.node_id if config is not None else "sim")
    end_s = scenario.end_s()
    capture_path, truth_path = Path(capture_path), Path(truth_path)
    lines = samples = 0
    with CaptureWriter(capture_path, sim.capture_header(node_name, start_time), flush_every=5000) as writer:
        while sim.renderer.rendered_until < end_s:
            block, block_lines = sim.step()
            samples += len(block.t)
            for t, raw in block_lines:
                writer.write(start_time + t, raw)
            lines += len(block_lines)
    truth = [record.shifted(start_time) for record in sim.truth]
    with truth_path.open("w", encoding="utf-8", newline="\n") as file:
        for record in truth:
            write_truth(file, record)
    return CaptureResult(capture_path, truth_path, lines, samples, sim.renderer.rendered_until, truth, layout)
