"""scripts/bench-parser runs in its short mode and reports every measurement (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench-parser"


def test_bench_parser_short_mode_reports_rates_and_ratios() -> None:
    command = [sys.executable, str(SCRIPT), "--frames", "2000", "--repeat", "1", "--min-fps", "0", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == 2000
    assert set(report["frames_per_s"]) == {"baseline", "parser", "stream", "plain", "pty"}
    assert all(rate > 0 for rate in report["frames_per_s"].values())
    assert report["cost_vs_baseline"]["stream"] > 1  # a real parser does more than split+int
    assert report["meets_requirement"] is True  # with --min-fps 0
