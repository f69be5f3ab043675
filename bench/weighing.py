"""Weighing on simulated shelves with ground truth, against an AIM3S-style moving-variance detector.

For each sample rate: generate a seeded scenario (picks, puts, restocks, back-to-back and adjacent picks, items
across plates, bumps, leans, line faults, drift), render it to a capture with the simulator, replay it through
the live parser + Weigher (calibration = the simulated shelf's true one, from the capture header), and score the
weight events against the truth (bench.truth_match). The baseline runs on the same per-plate grams in the same
pass. A drift-only run (no interactions) must give zero events.

    scripts/bench weighing                          # 2000 interactions at 10 and 80 SPS, an hour of drift each
    .venv/bin/python -m bench.weighing --seed 3     # another seed; all options: --help
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.benchmark import Benchmark
from bench.truth_match import match_events, summarize_matches
from bench.weighing_replay import replay, simulate
from edge.sim.truth import read_truth


@dataclass(frozen=True, slots=True)
class Cost:
    """CPU (process time) per frame of the weigher, the parser and the baseline, over the same frames."""

    weigher_s_per_sim_h: float
    weigher_pct_of_core: float  # at the capture's own rate
    weigher_us_per_frame: float
    parser_us_per_frame: float
    baseline_us_per_frame: float
    weigher_to_parser_ratio: float
    weigher_to_baseline_ratio: float


@dataclass(frozen=True)
class RateRun:
    sps: float
    seed: int
    interactions: int
    bumps_leans: int
    simulated_h: float
    frames: int
    weigher: Mapping[str, Any]  # bench.truth_match.summarize_matches of the Weigher's events
    baseline: Mapping[str, Any]  # ... of the moving-variance baseline's, same frames
    cpu: Cost


@dataclass(frozen=True)
class DriftRun:
    sps: float
    seconds: float
    events: int  # the Weigher's (must be 0)
    baseline_events: int
    zero_tracked_g: Mapping[str, float]  # how far zero tracking moved each plate's reference


@dataclass(frozen=True)
class WeighingResult:
    seed: int
    wall_s: float
    runs: tuple[RateRun, ...]
    drift_only: tuple[DriftRun, ...]

    def at(self, sps: float) -> RateRun:
        return next(r for r in self.runs if r.sps == sps)


def evaluate(seed: int, sps: float, interactions: int, workdir: Path) -> RateRun:
    capture, truth_path, calibration = simulate(seed, sps, interactions, workdir)
    truth = list(read_truth(truth_path))
    run = replay(capture, calibration)
    hours = run.duration_s / 3600
    return RateRun(
        sps=sps, seed=seed, interactions=sum(1 for r in truth if r.expect_event),
        bumps_leans=sum(1 for r in truth if r.kind in ("bump", "lean")), simulated_h=round(hours, 3),
        frames=run.frames, weigher=summarize_matches(match_events(run.events, truth), truth),
        baseline=summarize_matches(match_events(run.baseline, truth), truth),
        cpu=Cost(
            weigher_s_per_sim_h=round(run.weigher_s / hours, 3),
            weigher_pct_of_core=round(100 * run.weigher_s / run.duration_s, 3),
            weigher_us_per_frame=round(1e6 * run.weigher_s / run.frames, 2),
            parser_us_per_frame=round(1e6 * run.parse_s / run.frames, 2),
            baseline_us_per_frame=round(1e6 * run.baseline_s / run.frames, 2),
            weigher_to_parser_ratio=round(run.weigher_s / run.parse_s, 3),
            weigher_to_baseline_ratio=round(run.weigher_s / run.baseline_s, 3),
        ),
    )  # fmt: skip


def drift_only(seed: int, sps: float, seconds: float, workdir: Path) -> DriftRun:
    capture, _, calibration = simulate(seed, sps, None, workdir, drift_only_s=seconds)
    run = replay(capture, calibration)
    assert run.status is not None
    final = {n: p.reference_g for n, p in run.status.plates.items()}
    tracked = {n: _moved(run.first_reference.get(n, final[n]), final[n]) for n in final}
    return DriftRun(sps=sps, seconds=seconds, events=len(run.events), baseline_events=len(run.baseline),
                    zero_tracked_g=tracked)


def _moved(first: float | None, last: float | None) -> float:
    """How far a plate's zero reference moved (nan while it has none)."""
    return math.nan if first is None or last is None else round(last - first, 2)


def run(seed: int = 2026, rates: Sequence[float] = (10.0, 80.0), interactions: int = 2000,
        drift_s: float = 3600.0) -> WeighingResult:
    """Each rate scored on `seed`; the drift-only run uses seed + 1."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-weighing-") as tmp:
        workdir = Path(tmp)
        runs = tuple(evaluate(seed, sps, interactions, workdir) for sps in rates)
        drift = tuple(drift_only(seed + 1, sps, drift_s, workdir) for sps in rates)
    return WeighingResult(seed=seed, wall_s=round(time.time() - started, 1), runs=runs, drift_only=drift)


def render_markdown(result: WeighingResult) -> str:
    lines = [f"Seed {result.seed} (drift-only run: seed {result.seed + 1}); wall {result.wall_s:g} s.", ""]
    lines += ["| SPS | detector | interactions | events | precision | recall | F1 | merged / split | median abs err g "
              "| p95 abs err g | within tol. | false from bumps/leans | latency median s | latency p95 s "
              "| held | p95 not held s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in result.runs:
        for name, r in (("weigher", run.weigher), ("baseline", run.baseline)):
            lines.append(
                f"| {run.sps:g} | {name} | {r['true_interactions']} | {r['events']} | {r['precision']} | "
                f"{r['recall']} | {r['f1']} | {r['merged']} / {r['split']} | {r['abs_error_g']['median']} | "
                f"{r['abs_error_g']['p95']} | "
                f"{r['within_tolerance']} | {r['false_from_bumps_leans']} | {r['latency_s']['median']} | "
                f"{r['latency_s']['p95']} | {r['held']} | {r['latency_not_held_s']['p95']} |"
            )
    lines += ["", "| SPS | simulated h | frames | weigher CPU s / sim h | % of one core | us/frame weigher | "
              "us/frame parser | us/frame baseline | weigher/parser | weigher/baseline |",
              "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in result.runs:
        c = run.cpu
        lines.append(
            f"| {run.sps:g} | {run.simulated_h} | {run.frames} | {c.weigher_s_per_sim_h} | "
            f"{c.weigher_pct_of_core} | {c.weigher_us_per_frame} | {c.parser_us_per_frame} | "
            f"{c.baseline_us_per_frame} | {c.weigher_to_parser_ratio} | {c.weigher_to_baseline_ratio} |"
        )
    lines += ["", "| SPS | drift-only run | events (ours) | events (baseline) | zero tracking moved plates by (g) |",
              "|---|---|---|---|---|"]
    for d in result.drift_only:
        lines.append(f"| {d.sps:g} | {d.seconds:g} s | {d.events} | {d.baseline_events} | {dict(d.zero_tracked_g)} |")
    for run in result.runs:
        lines += ["", f"{run.sps:g} SPS missed (first 5): {run.weigher['missed_examples']}",
                  f"{run.sps:g} SPS false (first 5): {run.weigher['false_examples']}"]
    return "\n".join(lines) + "\n"


BENCHMARK = Benchmark(
    name="weighing",
    title="weighing: weight events against the truth (accuracy, latency, cost), against moving variance",
    run=run,
    render=render_markdown,
    quick={"seed": 2026, "rates": (80.0,), "interactions": 150, "drift_s": 600.0},
    full={"seed": 2026, "rates": (10.0, 80.0), "interactions": 2000, "drift_s": 3600.0},
    detail="bench/weighing.md",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="150 interactions at 80 SPS, 10 min drift")
    parser.add_argument("--interactions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rates", default="10,80", help="comma-separated samples per second")
    parser.add_argument("--drift-s", type=float, default=3600.0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.seed, (80.0,), 150, 600.0)
    else:
        result = run(args.seed, tuple(float(r) for r in args.rates.split(",")), args.interactions, args.drift_s)
    print(json.dumps(asdict(result), indent=2) if args.json else render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
