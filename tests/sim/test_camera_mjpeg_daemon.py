"""End to end: the real daemon with `[camera] source = "http://127.0.0.1:PORT/camera.mjpg"` reads the simulated
camera's MJPEG stream as it would an IP camera's (StreamSource), next to the simulated shelf on its pty."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge.control.client import request_once
from edge.control.protocol import ControlError
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.sim.camera import MjpegStream, camera_for
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def vision(control: Path) -> dict[str, Any]:
    try:
        status = request_once("status", path=control, timeout_s=2.0)
    except ControlError:
        return {}
    return status.get("parts", {}).get("vision") or {}


def test_the_daemon_reads_the_simulated_camera_stream(tmp_path: Path, broker: Broker) -> None:
    import cv2

    if not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        pytest.skip("this OpenCV build has no FFmpeg backend, so StreamSource cannot read HTTP streams")
    config_path, config = write_node_config(tmp_path, broker.port)
    layout = ShelfLayout.from_config(config, seed=4)
    install_factory_calibration(config, layout)
    scenario = generate_scenario(4, 300.0, layout)
    control, out = tmp_path / "control.sock", tmp_path / "daemon.out"
    with PtyShelf(scenario, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        truth = [r.shifted(shelf.start_time, shelf.speed) for r in shelf.sim.truth]
        camera = camera_for(scenario, truth, layout.plate_names(), images=None)
        stream = MjpegStream().start(camera, shelf.start_time + scenario.end_s())
        with config_path.open("a", encoding="utf-8") as toml:
            toml.write(f'\n[camera]\nsource = "{stream.url}"\nidle_fps = 2.0\nactive_fps = 10.0\n')
        with out.open("wb") as log:
            daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                       "--socket", str(control)], stdout=log, stderr=subprocess.STDOUT,
                                      env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)  # fmt: skip
        try:
            assert wait_until(lambda: vision(control).get("frames", 0) >= 5, 25, step=0.2), (
                vision(control), out.read_text()[-3000:])  # fmt: skip
            seen = vision(control)
            assert seen["source"] == f"stream {stream.url}" and seen["camera_ok"] is True, seen
            assert stream.clients == 1 and stream.frames_sent >= seen["frames"] - 1
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(15)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                    daemon.wait()
                stream.stop()
    assert daemon.returncode == 0, out.read_text()[-3000:]
