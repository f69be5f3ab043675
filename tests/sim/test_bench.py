"""The simulator benchmark script runs in its short mode and reports what docs/bench/sim.md quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench-sim"


def test_bench_quick_mode_reports_figures() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["interactions"] == 100 and report["channels"] == 8
    assert report["lines"] > 0.95 * report["simulated_s"] * report["sps"]  # faults drop only a few lines
    assert report["truth_records"] > 100
    for key in ("simulate_s", "baseline_s", "ratio_vs_baseline", "realtime_factor", "peak_rss_mb"):
        assert report[key] > 0
