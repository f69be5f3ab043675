"""The weighing benchmark's passes: render a seeded scenario to a capture with the simulator, then replay it
through the live parser + Weigher (the simulated shelf's true calibration) with the AIM3S-style baseline on the
same per-plate grams in the same pass, timing each (bench/weighing.py scores them)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.weighing_baseline import MovingVarianceBaseline
from edge.config import parse_config
from edge.loadcell.protocol import make_parser
from edge.loadcell.recording import read_capture, read_header
from edge.loadcell.serial_status import SerialHealth
from edge.model import WeightEvent, WeightFrame
from edge.sim.generate import generate_scenario
from edge.sim.offline import simulate_to_capture
from edge.sim.scenario import Item, Scenario, Slot
from edge.weighing import CalibrationStore, Weigher
from edge.weighing.status import WeigherStatus

CONFIG = """
[node]
store_id = "bench"
node_id = "shelf1"
[serial]
port = "loop://"
channels = 8
""" + "".join(f'[[plates]]\nname = "p{i + 1}"\nchannels = [{2 * i}, {2 * i + 1}]\n' for i in range(4))


@dataclass
class RunResult:
    events: list[tuple[float, WeightEvent]] = field(default_factory=list)
    baseline: list[tuple[float, WeightEvent]] = field(default_factory=list)
    frames: int = 0
    duration_s: float = 0.0
    parse_s: float = 0.0
    weigher_s: float = 0.0
    baseline_s: float = 0.0
    status: WeigherStatus | None = None
    first_reference: dict[str, float | None] = field(default_factory=dict)


def write_true_calibration(capture: Path, path: Path) -> None:
    """The simulated shelf's real offsets and scales, as a calibration file (a calibrated shelf)."""
    header = read_header(capture)
    scales = [float(v) for v in header["sim_counts_per_gram"].split(",")]
    offsets = [float(v) for v in header["sim_offsets"].split(",")]
    channels = [{"offset": o, "counts_per_gram": s} for o, s in zip(offsets, scales, strict=True)]
    path.write_text(json.dumps({"format": 1, "channels": channels, "plates": {}}))


def plate_grams(counts: Sequence[float | None], plates: list[list[tuple[int, float, float]]]) -> list[float | None]:
    """Per plate: the sum of its channels' grams (offset, counts per gram), None while a channel is missing."""
    grams: list[float | None] = []
    for plate in plates:
        total: float | None = 0.0
        for channel, offset, scale in plate:
            value = counts[channel]
            if value is None or total is None:
                total = None
            else:
                total += (value - offset) / scale
        grams.append(total)
    return grams


def replay(capture: Path, calibration: Path) -> RunResult:
    config = parse_config(CONFIG)
    weigher = Weigher(config, CalibrationStore(calibration, read_only=True))
    parser = make_parser(config.serial, SerialHealth(config.serial.channels, clock=lambda: 0.0))
    cal = weigher.calibration.channels
    plates = [[(ch, cal[ch].offset, cal[ch].counts_per_gram) for ch in p.channels] for p in config.plates]
    baseline = MovingVarianceBaseline(config.plate_names(), sps=float(read_header(capture)["sps"]))
    result = RunResult()
    clock = time.process_time_ns
    first_t = last_t = math.nan
    for t, raw in read_capture(capture):
        start = clock()
        record = parser.parse(raw, t)
        parsed = clock()
        result.parse_s += (parsed - start) / 1e9
        if not isinstance(record, WeightFrame):
            continue
        if result.frames == 0:
            first_t = t
        last_t = t
        result.frames += 1
        start = clock()
        events = weigher.feed(record)
        weighed = clock()
        grams = plate_grams(record.counts, plates)
        converted = clock()
        base_events = baseline.feed(t, grams)
        result.baseline_s += (clock() - converted) / 1e9
        result.weigher_s += (weighed - start) / 1e9
        result.events += [(t, e) for e in events]
        result.baseline += [(t, e) for e in base_events]
        if not result.first_reference and weigher.status().shelf_stable:
            result.first_reference = {n: p.reference_g for n, p in weigher.status().plates.items()}
    result.duration_s = last_t - first_t
    result.status = weigher.status()
    return result


def simulate(seed: int, sps: float, interactions: int | None, workdir: Path,
             drift_only_s: float | None = None) -> tuple[Path, Path, Path]:
    config = parse_config(CONFIG)
    if drift_only_s is None:
        scenario = generate_scenario(seed, interactions=interactions, plates=config.plate_names())
    else:
        names = config.plate_names()
        scenario = Scenario(
            name="drift-only", seed=seed, duration_s=drift_only_s, items=[Item(sku="box", unit_g=250.0)],
            planogram=[Slot(plate=n, sku="box", stock=6) for n in names], actions=[],
        )
    capture = workdir / f"{scenario.name}-{sps:g}.cap"
    truth = workdir / f"{scenario.name}-{sps:g}.jsonl"
    simulate_to_capture(scenario, capture, truth, sps=sps, config=config)
    calibration = workdir / f"{scenario.name}-{sps:g}.calibration.json"
    write_true_calibration(capture, calibration)
    return capture, truth, calibration
