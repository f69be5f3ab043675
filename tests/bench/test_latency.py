"""A tiny event-latency benchmark: the real daemon, a pty shelf and a private mosquitto, three interactions.
Asserts on the typed result that every item event arrived and that the breakdown adds up (not the timings)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import latency
from bench.benchmark import load
from edge.demo.broker import mosquitto_available

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("latency")


@pytest.fixture(scope="module")
def result(workdir: Path) -> latency.LatencyResult:
    return latency.run(events=3, gap_s=0.2, baseline=False, workdir=workdir)


def test_every_interaction_reaches_the_hub_as_an_item_event(result: latency.LatencyResult) -> None:
    (run,) = result.runs
    assert run.variant == "product" and run.interactions == 3
    assert run.missing == 0 and run.received == 3
    assert [e.action for e in run.events] == ["pick", "put", "pick"]
    assert [e.plate for e in run.events] == ["p1", "p1", "p2"]


def test_the_breakdown_adds_up_to_the_overhead_and_the_total(result: latency.LatencyResult) -> None:
    assert result.settle_samples == 32 and result.floor_s == pytest.approx(33 / 80)
    for event in result.product.events:
        assert len(event.stages) == len(latency.STAGES)
        assert all(math.isfinite(s) and s >= -0.002 for s in event.stages)  # two clocks of one machine
        assert sum(event.stages) == pytest.approx(event.overhead_s, abs=1e-6)
        assert event.total_s == pytest.approx(event.criterion_s + event.overhead_s, abs=1e-6)
        assert 0 < event.overhead_s < event.total_s
        assert event.held == (event.stages[latency.STAGES.index("fusion")] > 0.5)  # released by fusion's poll


def test_percentiles_and_the_markdown(result: latency.LatencyResult) -> None:
    overhead = result.product.of("overhead_s")
    assert overhead.p50 <= overhead.p95 <= overhead.p99
    text = latency.render_markdown(result)
    assert "| **overhead**: that line written -> hub receipt, events fusion did not hold |" in text
    assert all(latency.STAGE_TEXT[name] in text for name in latency.STAGES)


def test_percentiles_interpolate_between_ranks() -> None:
    p = latency.percentiles([0.0, 1.0, 2.0, 3.0, 4.0])
    assert (p.p50, p.p95, p.mean) == (2.0, pytest.approx(3.8), 2.0)
    assert math.isnan(latency.percentiles([]).p50)


def test_registered_for_scripts_bench() -> None:
    benchmark = load("latency")
    assert benchmark.run is latency.run and benchmark.quick["events"] < benchmark.full["events"]


def test_the_work_directory_is_removed(result: latency.LatencyResult, workdir: Path) -> None:
    assert list(workdir.iterdir()) == []  # broker, daemon and shelf stopped, their files gone
