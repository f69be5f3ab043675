"""Issue 11 #1 through the node: a weight event made while the state directory's disk is full is held,
not lost, and stored with the next seq once space frees. A real 2 MB tmpfs, real SQLite, a real pty shelf."""

from __future__ import annotations

from pathlib import Path

from edge.demo.setup import install_factory_calibration, write_node_config
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def test_an_event_made_on_a_full_disk_is_held_and_stored_when_space_frees(tmp_path: Path, small_disk: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)  # no broker: every event stays in the outbox
    config = config.model_copy(update={"node": config.node.model_copy(update={"state_dir": small_disk / "state"})})
    layout = ShelfLayout.from_config(config, seed=4)
    install_factory_calibration(config, layout)
    quiet = generate_scenario(4, 300.0, layout).model_copy(update={"actions": [], "duration_s": 300.0})
    with PtyShelf(quiet, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        node = Node(config)
        node.start()
        try:
            assert wait_until(lambda: node.weigher.shelf_stable(), 20), node.status_line()
            shelf.pick("p2")
            assert wait_until(lambda: node.counters.events == 1, 20), node.status_line()
            ballast = fill(small_disk)
            shelf.pick("p3")
            assert wait_until(lambda: node.counters.events == 2, 20), node.status_line()
            held = node.outbox.status()
            assert (held.depth, held.held, held.lost, held.healthy) == (1, 1, 0, False), held
            assert held.last_error is not None and "full" in held.last_error
            assert node.status().pipeline.outbox_errors == 1

            ballast.unlink()
            assert wait_until(lambda: node.outbox.status().held == 0, 10), node.outbox.status()
            stored = node.outbox.status()
            assert (stored.depth, stored.lost, stored.healthy) == (2, 0, True), stored
            rows = node.outbox.pending_after(0, 10)
            assert [row.seq for row in rows] == [1, 2]
            assert [row.body["plates"] for row in rows] == [["p2"], ["p3"]]
        finally:
            node.stop()
