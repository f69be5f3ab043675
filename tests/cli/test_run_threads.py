"""`shelf-node run` leaves no thread behind: after SIGTERM the daemon, with every part that runs a thread (serial
reader, processing, MQTT link, camera grabber and detector worker, control socket), exits promptly, and at exit
(atexit, after the interpreter joined its non-daemon threads) only the main thread is left, so no daemon thread
was cut off mid-work either."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edge.control.client import request_once
from edge.control.protocol import ControlError
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
# The daemon's own entry point, with one atexit hook that prints the threads still there at the very end.
WRAPPER = ("import atexit, json, runpy, threading; "
           "atexit.register(lambda: print('THREADS-AT-EXIT ' + json.dumps([t.name for t in threading.enumerate()]), "
           "flush=True)); runpy.run_module('edge', run_name='__main__')")


def _connected(control: Path) -> bool:
    try:
        status = request_once("status", path=control, timeout_s=2.0)
    except ControlError:
        return False
    return bool(status.get("mqtt", {}).get("connected")) and status.get("parts", {}).get("vision") is not None


def test_run_exits_promptly_on_sigterm_with_only_the_main_thread_left(tmp_path: Path, broker: Broker) -> None:
    config_path, config = write_node_config(tmp_path, broker.port)
    frames = tmp_path / "frames"
    frames.mkdir()
    with config_path.open("a", encoding="utf-8") as toml:
        toml.write(f'\n[camera]\nsource = "{frames}"\ndropout_s = 1\n')
    layout = ShelfLayout.from_config(config, seed=4)
    install_factory_calibration(config, layout)
    scenario = generate_scenario(4, 300.0, layout).model_copy(update={"actions": [], "duration_s": 300.0})
    control, out = tmp_path / "control.sock", tmp_path / "daemon.out"
    with PtyShelf(scenario, layout, sps=80, link_path=tmp_path / "shelf-tty"), out.open("wb") as log:
        daemon = subprocess.Popen([sys.executable, "-c", WRAPPER, "run", "--config", str(config_path),
                                   "--socket", str(control)], stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
        try:
            assert wait_until(lambda: _connected(control), 30, step=0.2), out.read_text()[-3000:]
            daemon.send_signal(signal.SIGTERM)
            started = time.monotonic()
            daemon.wait(20)
            took = time.monotonic() - started
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    text = out.read_text()
    assert daemon.returncode == 0, text[-3000:]
    assert took < 10.0, f"SIGTERM to exit took {took:.1f} s"
    (line,) = [line for line in text.splitlines() if line.startswith("THREADS-AT-EXIT ")]
    assert json.loads(line.removeprefix("THREADS-AT-EXIT ")) == ["MainThread"], text[-3000:]
