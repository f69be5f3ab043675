"""bench/wallclock.py: a shimmed process's wall clock follows the offset file, its monotonic clock does not, and
sleeping and timed waits still work (they failed under libfaketime with the monotonic clock left alone)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.wallclock import WallClockShift
from tests.plugins.waiting import wait_until

PROBE = """
import json, sys, threading, time
for line in sys.stdin:
    time.sleep(0.01); threading.Event().wait(0.01)
    print(json.dumps([time.time(), time.monotonic()]), flush=True)
"""


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="needs gcc")
def test_the_wall_clock_jumps_and_the_monotonic_clock_does_not(tmp_path: Path) -> None:
    shift = WallClockShift(tmp_path)
    probe = subprocess.Popen([sys.executable, "-c", PROBE], env={**os.environ, **shift.env()}, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert probe.stdin is not None and probe.stdout is not None

    def ask() -> tuple[float, float]:
        probe.stdin.write("\n")  # type: ignore[union-attr]
        probe.stdin.flush()  # type: ignore[union-attr]
        wall, mono = json.loads(probe.stdout.readline())  # type: ignore[union-attr]
        return wall, mono

    try:
        wall0, mono0 = ask()


        assert abs(wall0 - time.time()) < 1.0
        shift.jump(3600.0)
        assert wait_until(lambda: ask()[0] - time.time() > 3599.0, 5)  # within the shim's 0.1 s re-read
        shift.set(-600.0)
        assert wait_until(lambda: ask()[0] - time.time() < -599.0, 5)
        _, mono = ask()
        assert 0 <= mono - mono0 < 10.0  # the monotonic clock went on as before
    finally:
        probe.stdin.close()
        probe.wait(10)
    assert probe.returncode == 0  # time.sleep and Event.wait worked under the shim
