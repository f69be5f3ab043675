"""Same class as issue 11 #1 (full disk): a command whose stdout is a file on a full disk says so in one line.

`shelf-node config show > /full/x` (and outbox status --json, calibration show --json, sim generate, detect
--json, ...) ended in an OSError traceback. Real 2 MB tmpfs, real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.plugins.disk import fill

REPO = Path(__file__).resolve().parents[2]


def test_stdout_on_a_full_disk_is_one_line_not_a_traceback(small_disk: Path) -> None:
    fill(small_disk)
    with (small_disk / "out.txt").open("w") as stdout:
        done = subprocess.run([sys.executable, "-m", "edge", "config", "show", str(REPO / "config" / "sim-node.toml")],
                              stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write: " in lines[0] and "No space left on device" in lines[0], lines
