#!/usr/bin/env python3
"""Shelf simulator throughput: offline capture + truth for N interactions, against a baseline.

Baseline (same run, same machine): encoding and writing the same number of constant frames with
framing.weight_frame + CaptureWriter, i.e. the floor any capture writer pays. The ratio says what
the physics, faults and scenario cost on top of that floor.

    .venv/bin/python scripts/bench_sim.py                 # 2000 interactions, 80 SPS, 8 channels
    .venv/bin/python scripts/bench_sim.py --quick         # 100 interactions (for tests)
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

from edge.loadcell.capture import CaptureWriter
from edge.loadcell.framing import weight_frame
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.offline import simulate_to_capture


def baseline(lines: int, channels: int, path: Path) -> float:
    counts = [123456 + 1000 * c for c in range(channels)]
    start = time.perf_counter()
    with CaptureWriter(path, {"source": "baseline"}, flush_every=5000) as writer:
        for seq in range(lines):
            writer.write(1.0 + seq / 80.0, weight_frame(seq, seq * 12, counts))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=2000)
    parser.add_argument("--sps", type=float, default=80.0)
    parser.add_argument("--plates", type=int, default=4, help="2 cells each")
    parser.add_argument("--quick", action="store_true", help="100 interactions")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    interactions = 100 if args.quick else args.interactions
    layout = ShelfLayout.default(args.plates, 2, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        scenario = generate_scenario(args.seed, plates=layout, interactions=interactions)
        t_generate = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = simulate_to_capture(scenario, folder / "s.cap", folder / "s.jsonl", sps=args.sps, layout=layout)
        t_sim = time.perf_counter() - t0
        size_mb = (folder / "s.cap").stat().st_size / 1e6
        t_base = baseline(result.lines, layout.channels, folder / "b.cap")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "interactions": interactions,
        "sps": args.sps,
        "channels": layout.channels,
        "simulated_s": round(result.duration_s, 1),
        "lines": result.lines,
        "capture_mb": round(size_mb, 1),
        "truth_records": len(result.truth),
        "generate_s": round(t_generate, 3),
        "simulate_s": round(t_sim, 3),
        "baseline_s": round(t_base, 3),
        "ratio_vs_baseline": round(t_sim / t_base, 2),
        "realtime_factor": round(result.duration_s / t_sim, 1),
        "lines_per_s": round(result.lines / t_sim),
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
