"""The fleet benchmark in short: 4 real daemons on one mosquitto, a broker restart and a kill -9, zero loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.benchmark import load
from bench.fleet import render_markdown, run
from edge.demo.broker import mosquitto_available

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")


@pytest.mark.timeout(180)
def test_a_small_fleet_loses_nothing_through_a_broker_restart_and_a_kill(tmp_path: Path) -> None:
    result = run(nodes=4, per_minute=12.0, steady_s=5.0, outage_s=3.0, kills=1, down_s=2.0, tail_s=4.0, quiet_s=3.0,
                 workdir=tmp_path / "fleet")
    assert result.unique_events >= 4 and result.item_events > 0 and result.weight_events > 0
    assert (result.missing, result.invalid, result.pending_at_end) == (0, 0, 0), render_markdown(result)
    assert result.zero_loss
    # nothing seen went unstored either: each shopper interaction while a node was up has its item event
    # (one miss allowed: the weighing's own error rate, docs/benchmarks.md, not the fleet's)
    assert result.truth.interactions > 0 and result.truth.matched >= result.truth.interactions - 1
    broker, kill = result.recoveries
    assert broker.reconnect_s is not None and kill.reconnect_s is not None  # every node came back online
    assert result.daemon_exit_codes == (0,)  # each daemon stopped cleanly on SIGTERM
    assert 0.0 < result.resources.node_cpu_percent.median < 100.0
    assert result.resources.node_rss_mb.max > 10.0
    assert "zero loss" in render_markdown(result)


def test_fleet_and_chain_run_only_when_named() -> None:
    assert load("fleet").opt_in and load("chain").opt_in
