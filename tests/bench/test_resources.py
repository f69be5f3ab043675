"""A tiny resources benchmark: the real daemon on a pty shelf and a private mosquitto, a short idle phase and a
short busy one. Asserts on the typed result that both phases were sampled and their events arrived (not the
figures against the targets, which depend on the machine)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from bench import resources
from bench.benchmark import load
from edge.demo.broker import mosquitto_available

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("resources")


@pytest.fixture(scope="module")
def result(workdir: Path) -> resources.ResourcesResult:
    return resources.run(idle_s=4.0, busy_s=6.0, every_s=3.0, camera=False, warm_s=20.0, workdir=workdir)


def test_both_phases_are_sampled(result: resources.ResourcesResult) -> None:
    assert [p.name for p in result.phases] == ["idle", "busy"]
    assert result.channels == 8 and result.sps == 80.0 and not result.camera
    idle, busy = result.phase("idle"), result.phase("busy")
    assert 2.0 <= idle.seconds <= 4.5 and 4.0 <= busy.seconds <= 6.5
    for phase in result.phases:
        assert 0.0 < phase.cpu_share < (os.cpu_count() or 1)  # it ran, and no more than every core
        assert 10 < phase.rss_mb_max <= result.peak_rss_mb  # the peak covers every sample
        assert phase.threads_max >= 4 and phase.fds_max >= 5  # reader, processing, link, inbound; pty, db, sockets
    assert (idle.interactions, busy.interactions) == (0, 2)
    assert idle.item_events == 0 and busy.item_events == 2  # the busy shelf's picks reached the hub


def test_the_markdown_names_every_phase(result: resources.ResourcesResult) -> None:
    text = resources.render_markdown(result)
    assert "| idle |" in text and "| busy |" in text and "no camera" in text


def test_a_same_run_baseline_is_rendered_under_the_phases(result: resources.ResourcesResult) -> None:
    with_baseline = dataclasses.replace(result, camera=True, baseline=result)  # the run with the camera, and without
    text = resources.render_markdown(with_baseline)
    assert "| idle, baseline: no camera |" in text and "| busy, baseline: no camera |" in text
    assert f"its peak RSS {result.peak_rss_mb:.0f} MB" in text
    assert "baseline" not in resources.render_markdown(result)


def test_the_work_directory_is_removed(result: resources.ResourcesResult, workdir: Path) -> None:
    assert list(workdir.iterdir()) == []


def test_registered_for_scripts_bench() -> None:
    benchmark = load("resources")
    assert benchmark.run is resources.run and benchmark.quick["busy_s"] < benchmark.full["busy_s"]


def test_busy_actions_alternate_pick_and_put_back_plate_by_plate() -> None:
    actions = resources.busy_actions(10.0, 20.0, 5.0, ["p1", "p2"])
    assert [(a.at, a.kind, a.plate) for a in actions] == [
        (10.0, "pick", "p1"), (15.0, "put", "p1"), (20.0, "pick", "p2"), (25.0, "put", "p2")]
