"""Camera evidence for replay from the simulator's statistical camera (`shelf-node replay --stat-camera TRUTH`).

A simulated capture has no frames, but its truth file says what happened: the statistical camera
(edge/sim/stat_camera.py, measured per-label rates) draws what the vision service would have reported,
for each weight event over the node's window (EVIDENCE_MARGIN_S before the change and after it settled),
with `StatisticalCamera.event_evidence`, the one draw the fusion benchmark (bench/fusion_run.py) makes.
As the daemon, fusion gets the touched plates' evidence and `camera_ok`; a camera outage in the truth
(kind "camera", a scenario's `camera_down`) overlapping the window gives camera_ok False and no evidence.

The items (labels and photo families) come from `--scenario FILE` when given, else from the planogram's
catalogue (a SKU of the simulator's store keeps its look); the seed from `--camera-seed`, else the capture
header (`source: sim seed=N`), else the scenario. The same inputs give the same evidence, so the same items.

Why here, in the CLI layer: replay (edge/node) and the simulator (edge/sim) are both layer 6 and do not
import each other (docs/architecture.md); the CLI may import both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from edge.config import NodeConfig
from edge.errors import CaptureError, ConfigError
from edge.loadcell.recording import read_header
from edge.model import PlateEvidence, WeightEvent
from edge.node.node import EVIDENCE_MARGIN_S
from edge.planogram import Planogram
from edge.sim.scenario import Item, Scenario, load_scenario
from edge.sim.stat_camera import SHOPPER, StatisticalCamera, catalogue_items
from edge.sim.truth import TruthRecord, read_truth_lines

F = TypeVar("F", bound=Callable[..., Any])
SEED = re.compile(r"(?:^|\s)seed=(-?\d+)(?:\s|$)")
HOW = "give the --truth file `shelf-node sim capture` wrote with this capture"


def stat_camera_options(func: F) -> F:
    """--stat-camera TRUTH, --scenario FILE, --camera-seed N (on `replay`)."""
    func = click.option("--camera-seed", type=int, default=None, metavar="N",
                        help="Seed of the statistical camera (default: the capture header's `source: sim seed=N`, "
                             "else the --scenario's seed).")(func)
    func = click.option("--scenario", "stat_scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="With --stat-camera: the scenario TOML the capture was simulated from, for the items' "
                             "labels and photo families (default: the planogram's catalogue).")(func)
    return click.option("--stat-camera", "stat_truth", metavar="TRUTH",
                        type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="The capture's simulator truth (JSON lines): the statistical camera draws the item "
                             "events' camera evidence from it (needs --planogram; docs/fusion.md).")(func)


@dataclass
class StatCameraReplay:
    """The statistical camera of one simulated capture, handing out each weight event's evidence."""

    camera: StatisticalCamera
    truth: Path
    seed: int
    interactions: int  # shopper records the camera sees
    outages: int  # camera outages in the truth
    events: int = 0  # weight events asked about
    camera_down: int = 0  # of them, with an outage over their window

    def evidence_for(self, event: WeightEvent, now: float) -> tuple[bool, dict[str, PlateEvidence]]:
        """(camera_ok, the touched plates' evidence) for a weight event, as the daemon's `_evidence_for`; `now`
        (the emission time) is not needed: the camera's state over the window is in the truth."""
        self.events += 1
        drawn = self.camera.event_evidence(event, EVIDENCE_MARGIN_S)
        if drawn is None:
            self.camera_down += 1
            return False, {}
        touched = set(event.plate_deltas)
        return True, {plate: evidence for plate, evidence in drawn.items() if plate in touched}

    def summary(self) -> dict[str, Any]:
        return {"truth": str(self.truth), "seed": self.seed, "interactions": self.interactions,
                "outages": self.outages, "events": self.events, "camera_down": self.camera_down}

    def render(self) -> str:
        return (f"statistical camera: {self.truth} (seed {self.seed}): {self.interactions} interactions, "
                f"{self.outages} outages; {self.events} weight events, {self.camera_down} with the camera down")


def stat_camera_replay(config: NodeConfig, capture: Path, planogram: Planogram | None, truth: Path,
                       scenario_path: Path | None, camera_seed: int | None) -> StatCameraReplay:
    """The statistical camera for replaying `capture`; ConfigError naming the file (and line) when the truth, the
    scenario or the seed cannot give it."""
    scenario: Scenario | None = None
    if scenario_path is not None:
        try:
            scenario = load_scenario(scenario_path)
        except ConfigError as exc:
            raise ConfigError("; ".join(exc.problems[:3]) + (" ..." if len(exc.problems) > 3 else "")
                              + " (--scenario: the scenario TOML the capture was simulated from)") from None
    try:
        header = read_header(capture)
    except CaptureError as exc:
        raise ConfigError(str(exc)) from None
    seed = _seed(capture, header, scenario, scenario_path, camera_seed)
    if scenario is not None:
        items = list(scenario.items)
        where = f"the scenario {scenario_path}"
    elif planogram is not None:
        items = catalogue_items(planogram.catalogue)
        where = "the planogram's catalogue (or give --scenario FILE)"
    else:
        raise ConfigError("--stat-camera needs the items: add --planogram FILE")
    records = _read(truth, config.plate_names(), items, where, header)
    camera = StatisticalCamera(records, items, config.plate_names(), seed)
    shopper = sum(1 for r in records if r.kind in SHOPPER and r.sku is not None)
    return StatCameraReplay(camera, truth, seed, shopper, len(camera.outages))


def _seed(capture: Path, header: dict[str, str], scenario: Scenario | None, scenario_path: Path | None,
          camera_seed: int | None) -> int:
    if camera_seed is not None:
        return camera_seed
    found = SEED.search(header.get("source", ""))
    if found is not None:
        seed = int(found.group(1))
        if scenario is not None and scenario.seed != seed:
            raise ConfigError(f"{capture} was simulated from seed {seed} ({header['source']}) but {scenario_path} "
                              f"has seed {scenario.seed}: give the scenario the capture was made from, or "
                              "--camera-seed N to draw the camera from another seed")
        return seed
    if scenario is not None:
        return int(scenario.seed)
    raise ConfigError(f"{capture}: its header names no simulator seed (no `source: sim seed=N`): give "
                      "--camera-seed N (the seed of the scenario it was simulated from) or --scenario FILE")


def _read(truth: Path, plates: Sequence[str], items: Sequence[Item], where: str,
          header: dict[str, str]) -> list[TruthRecord]:
    """The truth records, each one the camera will draw checked against the config's plates and the items."""
    skus = {item.sku for item in items}
    start = _float(header.get("start_time"))
    records = []
    try:
        for number, record in read_truth_lines(truth):
            records.append(record)
            if record.kind not in SHOPPER or record.sku is None:
                continue
            at = f"{truth}:{number}: record {record.id} ({record.kind})"
            if not isinstance(record.sku, str) or record.sku not in skus:
                raise ConfigError(f"{at}: sku {record.sku!r} is not in {where}; {HOW}")
            unknown = [plate for plate in record.plates if plate not in plates]
            if not record.plates or unknown:
                raise ConfigError(f"{at}: plates {sorted(record.plates)} are not plates of the config "
                                  f"({', '.join(plates)}); replay with the config the capture was simulated with")
            if start is not None and record.t_start < start:
                raise ConfigError(f"{at} begins at {record.t_start:.3f}, before the capture's start_time "
                                  f"{start:.3f}: it is not this capture's truth; {HOW}")
    except CaptureError as exc:
        raise ConfigError(str(exc).replace("regenerate it with shelf-node sim", HOW)) from None
    except OSError as exc:
        raise ConfigError(f"{truth}: cannot read: {exc.strerror or exc}") from None
    if not records:
        raise ConfigError(f"{truth}: no truth records in it; {HOW}")
    return records


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
