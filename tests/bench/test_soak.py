"""The soak's short version (issue 16): 2.5 minutes of the real daemon under one cycle of every fault
(bench/soak.py; `scripts/soak --minutes 30` is the long one, docs/bench/soak.md). Real mosquitto, pty
simulator, tmpfs (skipped without root), the wall-clock shim (skipped without gcc)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import soak
from edge.demo.broker import mosquitto_available

pytestmark = [
    pytest.mark.slow,  # about 2.6 minutes of the suite
    pytest.mark.timeout(420),  # one rig for the module: 2.5 minutes of soak, then the drain and the stop
    pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)"),
    pytest.mark.skipif(shutil.which("gcc") is None, reason="the wall-clock shim needs gcc"),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> soak.SoakResult:
    return soak.run(minutes=2.5, seed=5, cycle_s=120.0, workdir=tmp_path_factory.mktemp("soak") / "rig")


def test_every_true_interaction_reaches_the_hub(result: soak.SoakResult) -> None:
    accounting = result.accounting
    assert accounting.interactions >= 10, soak.render_markdown(result)
    assert accounting.unaccounted == (), soak.render_markdown(result)
    assert accounting.items_missing == 0, soak.render_markdown(result)
    assert result.hub["missing_count"] == 0 and result.hub["invalid"] == 0, result.hub


def test_every_fault_is_told_by_its_counter(result: soak.SoakResult) -> None:
    kinds = {fault.kind: fault for fault in result.faults}
    assert set(kinds) == set(soak.BY_NAME), sorted(kinds)  # one cycle holds every kind
    for fault in result.faults:
        if fault.skipped:  # only the tmpfs one may be, and only where mounting is not allowed
            assert fault.kind == "disk_full", fault
            continue
        if fault.counter is not None:
            assert fault.detected + fault.absorbed == fault.injected, (fault, soak.render_markdown(result))
            rise = fault.counter_delta
            assert rise is not None and rise >= fault.injected * fault.per_injection, fault
        assert fault.quiet_violations == (), (fault, soak.render_markdown(result))


def test_the_daemon_stops_in_time_and_leaves_nothing_behind(result: soak.SoakResult) -> None:
    assert result.daemon_exit == 0 and result.stop_s < soak.STOP_BUDGET_S, soak.render_markdown(result)
    assert result.leftovers == ()
    assert result.log_lines["traceback"] == 0, Path(result.workdir, "node.log").read_text()[-3000:]
    threads = next(t for t in result.trends if t.name == "threads")
    assert threads.flat, threads
