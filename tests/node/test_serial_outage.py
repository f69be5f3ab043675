"""Issue 11 #4 through the node: a pick made while the shelf's USB cable is out comes out, after the replug,
as an event flagged `serial_outage` whose start is the last sample before the outage (real pty shelf)."""

from __future__ import annotations

import time
from pathlib import Path

from edge.demo.setup import install_factory_calibration, write_node_config
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.waiting import wait_until


def test_a_pick_during_an_unplug_is_flagged_and_starts_before_the_outage(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)  # no broker: the events stay in the outbox
    layout = ShelfLayout.from_config(config, seed=6)
    install_factory_calibration(config, layout)
    quiet = generate_scenario(6, 300.0, layout).model_copy(update={"actions": [], "duration_s": 300.0})
    with PtyShelf(quiet, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        node = Node(config)
        node.start()
        try:
            assert wait_until(lambda: node.weigher.shelf_stable(), 20), node.status_line()
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
