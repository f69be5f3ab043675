"""Issue 11 #4 over a real pty and the simulator: a pick while the cable is out starts at the last sample before
the outage and is flagged `serial_outage`; another MCU board (the simulator restarted with another seed) is
flagged `board_changed` until confirmed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from edge.demo.setup import install_factory_calibration, write_node_config
from edge.loadcell.reader import SerialReader
from edge.model import InfoFrame, WeightEvent, WeightFrame
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from edge.weighing import CalibrationStore, Weigher
from tests.plugins.waiting import wait_until
from tests.sim.helpers import quiet_scenario


class Pipeline:
    """What the node's processing does with the reader's records (frames to the weigher, info frames too)."""

    def __init__(self, weigher: Weigher) -> None:
        self.weigher = weigher
        self.events: list[WeightEvent] = []
        self.last_frame_t = 0.0
        self._lock = threading.Lock()

    def on_frame(self, record: WeightFrame | InfoFrame) -> None:
        if isinstance(record, InfoFrame):
            self.weigher.observe_board(record.uid, record.firmware)
            return
        self.last_frame_t = record.t
        found = self.weigher.feed(record)
        with self._lock:
            self.events += found

    def on(self, plate: str) -> list[WeightEvent]:
        with self._lock:
            return [e for e in self.events if plate in e.plate_deltas]


@pytest.fixture
def node(tmp_path: Path):  # type: ignore[no-untyped-def]
    _, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=3)
    install_factory_calibration(config, layout)
    pipeline = Pipeline(Weigher(config, CalibrationStore.in_state_dir(config.node.state_dir)))
    reader = SerialReader(config.serial.model_copy(update={"backoff_min_s": 0.1, "backoff_max_s": 0.3}),
                          pipeline.on_frame).start()
    yield layout, pipeline, reader
    reader.stop()


def test_a_pick_while_unplugged_starts_before_the_outage_and_is_flagged(tmp_path: Path, node) -> None:  # type: ignore[no-untyped-def]
    layout, pipeline, reader = node
    with PtyShelf(quiet_scenario(120.0), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        assert wait_until(lambda: pipeline.weigher.status().shelf_stable and pipeline.weigher.status().board,
                          timeout=20), "a stable shelf and its board"
        shelf.unplug()
        assert wait_until(lambda: not reader.health.connected), "the reader to see the unplug"
        last_before = pipeline.last_frame_t
        truth = shelf.pick("p1")  # while no line reaches the node
        assert wait_until(lambda: time.time() > truth.t_settled + 1.0, timeout=20), "the pick to be over"
        shelf.replug()
        assert wait_until(lambda: bool(pipeline.on("p1")), timeout=20), "the pick's event"
    (event,) = pipeline.on("p1")
    assert "serial_outage" in event.flags
    assert event.t_start <= truth.t_start  # not when the frames came back, seconds later
    assert event.t_start >= last_before - 0.1  # the last sample before the outage
    assert event.delta_g == pytest.approx(truth.plates["p1"], abs=10.0)  # the true delta, a pick: negative
    assert pipeline.weigher.status().serial_outages >= 1
    assert "board_changed" not in event.flags  # the same board came back


def test_another_board_is_flagged_until_confirmed(tmp_path: Path, node) -> None:  # type: ignore[no-untyped-def]
    layout, pipeline, _ = node
    weigher = pipeline.weigher
    with PtyShelf(quiet_scenario(120.0, seed=5), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        assert wait_until(lambda: weigher.status().shelf_stable and weigher.status().board,
                          timeout=20), "a stable shelf and its board"
    first = weigher.status().board
    assert first is not None
    with PtyShelf(quiet_scenario(120.0, seed=6), layout, sps=80, link_path=tmp_path / "shelf-tty") as other:
        assert wait_until(lambda: weigher.status().board_changed is not None, timeout=20), "the new board"
        change = weigher.status().board_changed
        assert change is not None and change.calibrated_with == first and change.seen.uid != first.uid
        assert wait_until(lambda: weigher.status().shelf_stable, timeout=20), "the shelf to settle"
        truth = other.pick("p2")
        assert wait_until(lambda: bool(pipeline.on("p2")), timeout=20), "the pick's event"
        assert "board_changed" in pipeline.on("p2")[-1].flags
        assert weigher.confirm_board() == change.seen
        assert weigher.status().board_changed is None
        confirmed = len(pipeline.events)
        other.pick("p3")
        assert wait_until(lambda: any("p3" in e.plate_deltas for e in pipeline.events[confirmed:]),
                          timeout=20), "the next pick's event"
    assert not any("board_changed" in e.flags for e in pipeline.events[confirmed:])
    assert truth.kind == "pick"
