"""Issue 11, nothing lost at stop: a pick under way when the node stops (Node.stop(), SIGTERM) reaches the outbox
(settled if the stop let it settle, else flagged `stopped_early`), and after a restart the hub; so do the item
events fusion holds; replay reports a change still under way
at the end of a capture the same way, every time. Real pty shelf, real mosquitto, real SQLite outbox."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge.demo.broker import LocalBroker, mosquitto_available
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.hub.watcher import HubWatcher, hub_section
from edge.node import Node
from edge.node.node import STOP_JOIN_S, STOP_SETTLE_S
from edge.node.replay import Replay
from edge.outbox import open_outbox
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from edge.weighing.events import weight_event_to_dict
from edge.weighing.store import CalibrationStore
from tests.node.shelves import node_on_quiet_shelf, quiet_scenario, stop_everything
from tests.node.test_daemon_items import weighing_settled
from tests.plugins.waiting import wait_until

needs_mosquitto = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")


def _under_way(node: Node, plate: str) -> bool:
    """The plate is active and already 20 g off its reference (a change just opened may still be under
    min_event_g, and a change that small is not an event at a stop either)."""
    status = node.weigher.status().plates[plate]
    if status.state != "active" or status.grams is None or status.reference_g is None:
        return False
    return abs(status.grams - status.reference_g) >= 2 * node.config.weighing.min_event_g


def test_node_stop_without_time_to_settle_puts_the_change_under_way_in_the_outbox(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)  # no broker: what the node made stays in the outbox
    with node_on_quiet_shelf(config, tmp_path, seed=7) as (node, shelf):
        try:
            truth = shelf.pick("p3")
            # stop while the hand is on the plate: it is active, nothing reported yet, and no time to settle
            assert wait_until(lambda: _under_way(node, "p3"), 10), node.status_line()
            assert node.counters.events == 0
        finally:
            node.stop(settle_s=0.0)
    assert node.counters.events == 1, node.status_line()
    outbox = open_outbox(config)
    try:
        (row,) = list(outbox.pending_after(0, 10))
    finally:
        outbox.close()
    assert row.kind == "weight" and row.body["plates"] == ["p3"]
    assert row.body["quality"] == "forced" and "stopped_early" in row.body["flags"], row.body
    # its grams are what the plate weighed at the stop (the hand's press, or part of the lift), so no sign
    assert abs(row.body["delta_g"]) >= config.weighing.min_event_g
    assert abs(row.body["t_start_unix"] - truth.t_start) < 1.0, (row.body, truth)


def test_node_stop_weighs_the_frames_still_queued(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    with node_on_quiet_shelf(config, tmp_path, seed=11) as (node, shelf):
        try:
            truth = shelf.pick("p4")
            release = threading.Event()

            def wedge() -> None:  # the processing thread stalls (an fsync, a slow evidence look-up): frames queue
                with node.weigher._lock:
                    release.wait(20)

            stall = threading.Thread(target=wedge)
            stall.start()
            assert wait_until(lambda: time.time() > truth.t_settled + 1.0, 20)
            assert node._frames.qsize() > 80  # the whole pick is still in the queue (status() would wait for the lock)
            threading.Timer(0.5, release.set).start()  # the stall ends after the reader has stopped
        finally:
            node.stop(settle_s=0.0)
            release.set()
    stall.join()
    assert node.counters.frames_dropped == 0
    outbox = open_outbox(config)
    try:
        (row,) = list(outbox.pending_after(0, 10))
    finally:
        outbox.close()
    assert row.body["plates"] == ["p4"], row.body
    assert abs(row.body["delta_g"] - truth.plates["p4"]) < 5.0, (row.body, truth)


def test_node_stop_writes_the_item_event_fusion_still_holds(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    planogram = tmp_path / "planogram.json"  # p2's SKU weighs far more than any simulated pick: fusion holds
    planogram.write_text(json.dumps({  # the item for a neighbour's event that could complete it
        "format": 2, "id": "pg-test", "version": 1,
        "catalogue": [{"sku": "HEAVY-1", "name": "Heavy pack", "unit_weight_g": 5000.0, "unit_sigma_g": 5.0}],
        "plates": {"p2": [{"sku": "HEAVY-1", "stock": 3}]}}))
    config = config.model_copy(update={"fusion": config.fusion.model_copy(update={"planogram": planogram})})
    with node_on_quiet_shelf(config, tmp_path, seed=10) as (node, shelf):
        try:
            shelf.pick("p2")
            assert wait_until(lambda: node.counters.events == 1, 20), node.status_line()
            assert node.items.status().held == 1  # waiting up to neighbour_window_s (1.5 s) for a neighbour
        finally:
            node.stop()
    outbox = open_outbox(config)
    try:
        weight, item = list(outbox.pending_after(0, 10))
    finally:
        outbox.close()
    assert (weight.kind, item.kind) == ("weight", "item"), (weight, item)
    assert [ref["seq"] for ref in item.body["weight_events"]] == [weight.seq]


@needs_mosquitto
def test_sigterm_during_a_pick_reaches_the_hub_after_the_restart(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker")  # not running yet: the first daemon keeps its events
    config_path, config = write_node_config(tmp_path, broker.port)
    layout = ShelfLayout.from_config(config, seed=8)
    install_factory_calibration(config, layout)
    watcher = HubWatcher(hub_section(port=broker.port), client_id="test-hub-stop")
    shelf = PtyShelf(quiet_scenario(8, layout), layout, sps=80, link_path=tmp_path / "shelf-tty").start()
    daemons: list[subprocess.Popen[bytes]] = []

    def start_daemon() -> tuple[subprocess.Popen[bytes], Path]:
        log_path = tmp_path / f"node{len(daemons)}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                     "--socket", str(tmp_path / "control.sock")],
                                    stdout=log, stderr=subprocess.STDOUT)
        daemons.append(proc)
        return proc, log_path

    try:
        first, first_log = start_daemon()
        assert wait_until(lambda: "weighing: " in first_log.read_text(errors="replace"), 30), first_log.read_text()
        # warm-up done: the plates' noise and levels (40 samples) and a quiet window
        assert wait_until(lambda: weighing_settled(tmp_path / "control.sock"), 30), first_log.read_text()
        truth = shelf.pick("p2")
        assert wait_until(lambda: time.time() > truth.t_start + 0.3, 5)  # the hand is lifting
        first.send_signal(signal.SIGTERM)
        assert first.wait(20) == 0, first_log.read_text()
        outbox = open_outbox(config)
        try:
            rows = list(outbox.pending_after(0, 10))
        finally:
            outbox.close()
        log_text = first_log.read_text(errors="replace")
        assert len(rows) == 1, log_text
        (row,) = rows
        assert "waiting up to" in log_text, log_text  # the stop let the pick settle
        # the whole pick, settled (the stop waited for it), not a part of it
        assert row.body["plates"] == ["p2"], row.body
        assert abs(row.body["delta_g"] - truth.plates["p2"]) < 5.0, (row.body, truth)

        broker.start()
        watcher.start()
        second, second_log = start_daemon()
        assert watcher.wait_for(lambda t: t.unique_events >= 1, timeout=30), second_log.read_text()
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0, second_log.read_text()
        (event,) = [r for r in watcher.records if r.type == "event"]
        assert event.valid, event.problems
        assert event.payload["seq"] == row.seq == 1
        assert event.payload["body"] == row.body, json.dumps(event.payload)
    finally:
        stop_everything(daemons, watcher, shelf, broker)


def test_replay_reports_a_change_under_way_at_the_end_of_the_capture_the_same_every_time(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=9)
    install_factory_calibration(config, layout)
    capture = tmp_path / "shelf.capture"
    with PtyShelf(quiet_scenario(9, layout), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        node = Node(config, record_to=capture)
        node.start()
        try:
            assert wait_until(lambda: node.weigher.shelf_stable(), 20), node.status_line()
            shelf.pick("p1")
            assert wait_until(lambda: _under_way(node, "p1"), 10), node.status_line()
        finally:
            node.stop(settle_s=0.0)  # the recording ends mid-pick
    outbox = open_outbox(config)
    try:
        (live,) = list(outbox.pending_after(0, 10))
    finally:
        outbox.close()
    calibration = CalibrationStore.in_state_dir(config.node.state_dir).path
    runs = [list(Replay(config, capture, CalibrationStore(calibration, read_only=True)).events()) for _ in range(2)]
    assert runs[0] == runs[1]
    (t_emit, event), = runs[0]
    assert "p1" in event.plate_deltas
    assert event.quality == "forced" and "stopped_early" in event.flags
    assert event.t_end <= t_emit  # reported at the last line of the capture
    assert weight_event_to_dict(event) == live.body  # what the node reported when it stopped there


def test_the_stop_stores_everything_well_within_systemds_stop_timeout() -> None:
    unit = (Path(__file__).resolve().parents[2] / "systemd" / "shelf-node.service").read_text()
    match = re.search(r"(?m)^TimeoutStopSec=(\d+)$", unit)
    assert match, "systemd/shelf-node.service sets no TimeoutStopSec"
    reader_stop_s = 2.0  # SerialReader.stop's join
    # settle, reader, drain and the flushed events' evidence: the events are stored before the link's stop
    # (stop_timeout_s, 5 s by default) begins, and both fit before systemd's SIGKILL
    assert STOP_SETTLE_S + reader_stop_s + STOP_JOIN_S + 5.0 <= int(match.group(1))
