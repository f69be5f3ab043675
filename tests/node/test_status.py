"""The node's typed status on a simulated shelf (a real pty, no broker): the records' attributes, and the
exact JSON that `stats` and `birth` carry (the wire contract stays as it was)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.demo.setup import install_factory_calibration, write_node_config
from edge.mqtt import envelope
from edge.mqtt.validation import problems
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.waiting import wait_until

PIPELINE_KEYS = ["frames", "events", "frames_dropped", "info_frames", "outbox_errors", "evidence_errors",
                 "reloads", "reloads_refused", "frame_queue", "healthy"]
BIRTH_KEYS = ["software_version", "config_digest", "model", "plates", "calibration", "mcu", "board_changed"]



@pytest.fixture
def running_node(tmp_path: Path) -> Iterator[Node]:
    _, config = write_node_config(tmp_path, broker_port=1)  # nothing listens there: the link keeps retrying
    layout = ShelfLayout.from_config(config, seed=2)
    install_factory_calibration(config, layout)
    with PtyShelf(generate_scenario(2, 120.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        node = Node(config)
        node.start()
        try:
            assert wait_until(lambda: node.counters.frames > 200 and node.last_info is not None, 20), \
                node.status_line()
            yield node
        finally:
            node.stop()


def test_stats_parts_and_birth_keep_their_wire_shape(running_node: Node) -> None:
    stats = running_node.status().to_json()
    assert set(stats) == {"node", "serial", "weighing", "gallery", "review", "fusion", "reliability"}  # no vision
    assert stats["fusion"]["item_events"] == 0 and stats["fusion"]["planogram"] is None  # docs/fusion.md
    assert stats["review"]["flagged"] == 0 and stats["review"]["pictures_planned"] == 0  # docs/vision.md
    assert stats["gallery"]["examples"] == 0 and stats["gallery"]["reviews"]["answered"] == 0  # docs/gallery.md
    assert list(stats["node"]) == PIPELINE_KEYS
    assert stats["node"]["frames"] > 200 and stats["node"]["healthy"] is True
    assert stats["weighing"]["calibration"].endswith("calibration.json")
    assert set(stats["weighing"]["plates"]) == {"p1", "p2", "p3", "p4"}
    assert stats["serial"]["frames_ok"] > 200

    birth = running_node.birth().to_json()
    assert list(birth) == BIRTH_KEYS
    assert birth["model"] is None
    assert birth["plates"][0] == {"name": "p1", "channels": [0, 1]}
    assert birth["calibration"]["calibrated_plates"] == []
    assert set(birth["mcu"]) == {"firmware", "channels", "sps", "uid"} and birth["mcu"]["channels"] == 8
    assert problems("birth", envelope.stamp("birth", birth, 1)) == []


def test_pipeline_status_is_a_typed_record(running_node: Node) -> None:
    status = running_node.status().pipeline
    assert status.frames > 200 and status.healthy is True and status.frames_dropped == 0
    assert status.to_json()["frames"] == status.frames


def test_node_status_reads_as_attributes(running_node: Node) -> None:
    status = running_node.status()
    assert status.healthy is True and status.vision is None
    assert status.serial.frames_ok > 200 and status.serial.port.connected is True
    assert set(status.weighing.plates) == {"p1", "p2", "p3", "p4"}
    assert status.weighing.board is not None and status.weighing.board.uid == running_node.last_info.uid
    assert "serial up" in running_node.status_line() and "mqtt down" in running_node.status_line()


def test_a_worker_thread_that_ends_is_a_failure_the_daemon_exits_on(running_node: Node) -> None:
    assert running_node.failed() is None
    running_node.reader.stop()  # the reader thread ends as if it had died
    assert running_node.failed() == "the serial reader thread died (see the traceback above)"
    assert not running_node.healthy()
