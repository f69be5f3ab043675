"""Issue 14 Tests: "the watchdog stops when the serial stream stalls and when the detector fails on every frame":
`shelf-node run` as a subprocess with a NOTIFY_SOCKET and WATCHDOG_USEC the test sets up, on the simulated pty
shelf and a real mosquitto, with short `[health]` thresholds (the defaults, 60 s and 120 s, would make each test
minutes long). The WATCHDOG=1 pings stop, so systemd would restart the service; the daemon itself runs on and
still answers `status`, which says FAULT and why."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import write_node_config
from tests.cli.daemon_process import Daemon, run_daemon
from tests.node.test_node_vision import vision_config
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


def status(node: Daemon) -> tuple[int, str]:
    shown = CliRunner().invoke(cli, ["status", "--socket", str(node.control)])
    return shown.exit_code, shown.output


def assert_pings_stop(node: Daemon) -> None:
    # Windows, not waits: what is asserted is an absence (no WATCHDOG=1), and no event marks it. First one ping
    # interval (WATCHDOG_USEC/2 = 0.5 s) for a ping the loop decided before the fault showed; then 2 s with none
    # at all, twice WatchdogSec (1 s), so systemd would have restarted the service.
    time.sleep(0.6)
    pings = node.pings()
    time.sleep(2.0)
    assert node.pings() == pings, "the watchdog is still fed"
    assert node.process.poll() is None  # systemd restarts it on the missed watchdog; it does not exit itself
    code, output = status(node)
    assert code == 1 and "FAULT" in output, output


def test_the_watchdog_stops_when_the_serial_stream_stalls(tmp_path: Path, broker: Broker) -> None:
    config_path, _ = write_node_config(tmp_path, broker_port=broker.port)
    config_path.write_text(config_path.read_text() + "\n[health]\nserial_stall_s = 2\n")
    with run_daemon(tmp_path, config_path) as node:
        assert wait_until(lambda: node.pings() > 0, 30), node.log.read_text()
        pings = node.pings()
        assert wait_until(lambda: node.pings() > pings, 5), "not fed while healthy"
        node.shelf.request_stop()  # the playing thread ends; the pty stays open: a hung board
        assert wait_until(lambda: "no weight frame for" in status(node)[1], 10), status(node)
        assert_pings_stop(node)


def changing_video(path: Path) -> Path:
    """Frames that all differ (motion everywhere), so the detector is asked about every one."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    rng = np.random.default_rng(1)
    for _ in range(20):
        writer.write(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    writer.release()
    return path


def test_the_watchdog_stops_when_the_detector_fails_on_every_frame(tmp_path: Path, broker: Broker,
                                                                   shared_model_dir: Path) -> None:
    """A real SSD model configured as YOLO (`format = "yolov5"`, as after a model swap that kept the old format):
    the real runtime loads it, and every detection raises ModelError."""
    config_path = vision_config(tmp_path, broker.port, shared_model_dir, changing_video(tmp_path / "shelf.avi"))
    text = config_path.read_text().replace("score_threshold = 0.4\n", 'score_threshold = 0.4\nformat = "yolov5"\n')
    config_path.write_text(text + "\n[health]\ndetector_fatal_after_s = 3\n")
    with run_daemon(tmp_path, config_path) as node:
        assert wait_until(lambda: node.pings() > 0, 30), node.log.read_text()
        assert wait_until(lambda: "detector: failing for" in status(node)[1], 20), status(node)
        assert_pings_stop(node)
        assert "no class columns" in node.log.read_text()  # the detector's own error, logged per frame
