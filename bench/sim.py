"""Shelf simulator throughput: offline capture + truth for N interactions, against a baseline.

Baseline (same run, same machine): encoding and writing the same number of constant frames with
framing.weight_frame + CaptureWriter, i.e. the floor any capture writer pays. The ratio says what
the physics, faults and scenario cost on top of that floor.

    scripts/bench sim                                       # 2000 interactions, 80 SPS, 8 channels
    .venv/bin/python -m bench.sim --interactions 500 --plates 8   # all options: --help
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.benchmark import Benchmark
from edge.loadcell.framing import weight_frame
from edge.loadcell.recording import CaptureWriter
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.offline import simulate_to_capture


@dataclass(frozen=True, slots=True)
class SimResult:
    interactions: int
    sps: float
    channels: int
    seed: int
    simulated_s: float
    lines: int
    capture_mb: float
    truth_records: int
    generate_s: float
    simulate_s: float
    baseline_s: float  # encoding + writing the same number of lines
    peak_rss_mb: float  # of this process so far (the largest run in it)

    @property
    def ratio_vs_baseline(self) -> float:
        return self.simulate_s / self.baseline_s

    @property
    def realtime_factor(self) -> float:
        return self.simulated_s / self.simulate_s


def baseline(lines: int, channels: int, path: Path) -> float:
    counts = [123456 + 1000 * c for c in range(channels)]
    start = time.perf_counter()
    with CaptureWriter(path, {"source": "baseline"}, flush_every=5000) as writer:
        for seq in range(lines):
            writer.write(1.0 + seq / 80.0, weight_frame(seq, seq * 12, counts))
    return time.perf_counter() - start


def run(interactions: int = 2000, sps: float = 80.0, plates: int = 4, seed: int = 1) -> SimResult:
    """`plates` plates of 2 cells each."""
    layout = ShelfLayout.default(plates, 2, seed)
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        scenario = generate_scenario(seed, plates=layout, interactions=interactions)
        t_generate = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = simulate_to_capture(scenario, folder / "s.cap", folder / "s.jsonl", sps=sps, layout=layout)
        t_sim = time.perf_counter() - t0
        size_mb = (folder / "s.cap").stat().st_size / 1e6
        t_base = baseline(result.lines, layout.channels, folder / "b.cap")
    return SimResult(interactions=interactions, sps=sps, channels=layout.channels, seed=seed,
                     simulated_s=result.duration_s, lines=result.lines, capture_mb=size_mb,
                     truth_records=len(result.truth), generate_s=t_generate, simulate_s=t_sim, baseline_s=t_base,
                     peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def render_markdown(result: SimResult) -> str:
    r = result
    return "\n".join([
        f"{r.interactions} interactions at {r.sps:g} SPS, {r.channels} channels, seed {r.seed}.", "",
        "| simulated | lines | capture | truth records | generate | simulate | baseline (encode + write) "
        "| simulate / baseline | x real time | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {r.simulated_s:,.0f} s ({r.simulated_s / 3600:.1f} h) | {r.lines:,} | {r.capture_mb:.1f} MB | "
        f"{r.truth_records} | {r.generate_s:.3f} s | {r.simulate_s:.2f} s | {r.baseline_s:.2f} s | "
        f"{r.ratio_vs_baseline:.2f} | {r.realtime_factor:.0f} | {r.peak_rss_mb:.0f} MB |",
    ]) + "\n"  # fmt: skip


BENCHMARK = Benchmark(
    name="sim",
    title="simulator: offline capture + truth, against encoding and writing the same lines",
    run=run,
    render=render_markdown,
    quick={"interactions": 300},
    full={"interactions": 2000},
    detail="bench/sim.md",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=2000)
    parser.add_argument("--sps", type=float, default=80.0)
    parser.add_argument("--plates", type=int, default=4, help="2 cells each")
    parser.add_argument("--quick", action="store_true", help="100 interactions")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of markdown")
    args = parser.parse_args(argv)
    result = run(100 if args.quick else args.interactions, args.sps, args.plates, args.seed)
    print(json.dumps(asdict(result), indent=2) if args.json else render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
