"""Issue 11 #4 through the node: a pick made while the shelf's USB cable is out comes out, after the replug,
as an event flagged `serial_outage` whose start is the last sample before the outage (real pty shelf)."""

from __future__ import annotations

import time
from pathlib import Path

from edge.demo.setup import write_node_config
from tests.node.shelves import node_on_quiet_shelf
from tests.plugins.waiting import wait_until


def test_a_pick_during_an_unplug_is_flagged_and_starts_before_the_outage(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)  # no broker: the events stay in the outbox
    with node_on_quiet_shelf(config, tmp_path, seed=6) as (node, shelf):
        try:
            unplugged_at = time.time()
            shelf.unplug()
            assert wait_until(lambda: not node.status().serial.port.connected, 10), node.status_line()
            truth = shelf.pick("p3")
            assert wait_until(lambda: time.time() > truth.t_settled + 1.0, 20)
            shelf.replug()
            assert wait_until(lambda: node.counters.events >= 1, 30), node.status_line()
            (row,) = node.outbox.pending_after(0, 10)
            assert row.body["plates"] == ["p3"]
            assert "serial_outage" in row.body["flags"], row.body
            assert row.body["t_start_unix"] <= unplugged_at + 0.1, (row.body["t_start_unix"], unplugged_at)
            status = node.status()
            assert status.weighing.serial_outages >= 1 and status.serial.port.outages >= 1
        finally:
            node.stop()
