"""scripts/bench-outbox --quick runs end to end (figures are not asserted: that is the script's job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_bench_outbox_quick_mode(broker: object) -> None:  # `broker` only to skip clearly without mosquitto
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "bench-outbox"), "--quick", "--json",
                           "--events", "500", "--appends", "30"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(done.stderr[-2000:])
    figures = json.loads(done.stdout)
    assert figures["events"] == 500 and figures["drain_events_per_s"] > 0 and figures["outbox_us"] > 0
    assert figures["drain_peak_rss_mb"] > 1 and figures["append_vs_bare_sqlite"] > 0
