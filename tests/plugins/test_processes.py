"""tests/plugins/processes.py: a session that leaves a process running fails, names it, and ends it; a clean
session passes. Runs an inner pytest in a subprocess (its own pid, so this session's children do not count)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.plugins.processes import leftover_processes
from tests.plugins.waiting import wait_until

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

LEAKY = """
import subprocess, sys
from pathlib import Path

def test_leaks(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(tmp_path)])
    Path(__file__).with_name("leaked.pid").write_text(str(proc.pid))
"""

CLEAN = """
import subprocess, sys

def test_cleans_up():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.terminate()
    proc.wait()
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return pytester


def test_a_process_left_running_fails_the_session_and_is_ended(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_leaky=LEAKY)
    result = inner.runpytest_subprocess("-p", "tests.plugins.processes", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*1 process(es) left running by the tests (ended now):*",
                                 "*pid * time.sleep(60)*", "*1 passed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    pid = int((inner.path / "leaked.pid").read_text())
    assert wait_until(lambda: not Path(f"/proc/{pid}").exists() or pid not in leftover_processes(1, "sleep(60)"), 5)


def test_a_clean_session_passes(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_clean=CLEAN)
    result = inner.runpytest_subprocess("-p", "tests.plugins.processes", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "left running" not in result.stdout.str()
