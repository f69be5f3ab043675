"""Issue 11 #1 through the node: a weight event made while the state directory's disk is full is held,
not lost, and stored with the next seq once space frees. A real 2 MB tmpfs, real SQLite, a real pty shelf."""

from __future__ import annotations

import json
from pathlib import Path

from edge.demo.setup import write_node_config
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from tests.node.shelves import node_on_quiet_shelf, quiet_scenario
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def test_an_event_made_on_a_full_disk_is_held_and_stored_when_space_frees(tmp_path: Path, small_disk: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)  # no broker: every event stays in the outbox
    config = config.model_copy(update={"node": config.node.model_copy(update={"state_dir": small_disk / "state"})})
    with node_on_quiet_shelf(config, tmp_path, seed=4) as (node, shelf):
        try:
            shelf.pick("p2")
            # counters.events counts events made, before the outbox is asked to store them: wait for the row itself
            assert wait_until(lambda: node.outbox.status().depth == 1, 20), node.status_line()
            ballast = fill(small_disk)
            shelf.pick("p3")
            assert wait_until(lambda: node.outbox.status().held >= 1, 20), node.status_line()
            held = node.outbox.status()
            assert (held.depth, held.held, held.lost, held.healthy) == (1, 1, 0, False), held
            assert held.last_error is not None and "full" in held.last_error
            # counted once submit has returned, which may be just after the outbox shows the event held
            assert wait_until(lambda: node.status().pipeline.outbox_errors == 1, 5), node.status().pipeline

            ballast.unlink()
            assert wait_until(lambda: node.outbox.status().held == 0, 10), node.outbox.status()
            stored = node.outbox.status()
            assert (stored.depth, stored.lost, stored.healthy) == (2, 0, True), stored
            rows = node.outbox.pending_after(0, 10)
            assert [row.seq for row in rows] == [1, 2]
            assert [row.body["plates"] for row in rows] == [["p2"], ["p3"]]
        finally:
            node.stop()


def test_an_item_event_made_on_a_full_disk_names_its_held_weight_event(tmp_path: Path, small_disk: Path) -> None:
    """Soak finding: the weight event waits in memory without a seq, but its event_id is fixed at submit, so the
    item event fusion makes from it names it (it named `{event_id: null, seq: null}`, which the hub cannot link)."""
    _, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=4)
    planogram = tmp_path / "planogram.json"
    planogram.write_text(json.dumps(planogram_document(quiet_scenario(4, layout))), encoding="utf-8")
    config = config.model_copy(update={
        "node": config.node.model_copy(update={"state_dir": small_disk / "state"}),
        "fusion": config.fusion.model_copy(update={"planogram": planogram})})
    with node_on_quiet_shelf(config, tmp_path, seed=4) as (node, shelf):
        try:
            ballast = fill(small_disk)
            shelf.pick("p3")
            assert wait_until(lambda: node.outbox.status().held == 2, 20), node.status_line()  # weight + item
            ballast.unlink()
            assert wait_until(lambda: node.outbox.status().held == 0, 10), node.outbox.status()
            weight, item = node.outbox.pending_after(0, 10)
        finally:
            node.stop()
    assert (weight.kind, item.kind) == ("weight", "item")
    assert item.body["weight_events"] == [{"event_id": weight.event_id, "seq": None}]
