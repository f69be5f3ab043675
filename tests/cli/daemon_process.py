"""`shelf-node run` as a subprocess, as systemd runs it: a NOTIFY_SOCKET and WATCHDOG_USEC the test owns, the
simulated shelf on a pty, the control socket given with --socket; SIGTERM (then kill) when the test is done."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from edge.config import load_config
from edge.demo.setup import install_factory_calibration
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from edge.sim.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    notify: socket.socket
    control: Path
    config: Path
    scenario: Scenario
    shelf: PtyShelf
    log: Path
    messages: list[str] = field(default_factory=list)

    def notifications(self) -> list[str]:
        """Every sd_notify message so far (reads what arrived since the last call)."""
        while True:
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except (TimeoutError, BlockingIOError):
                return self.messages

    def pings(self) -> int:
        return self.notifications().count("WATCHDOG=1")


@contextmanager
def run_daemon(tmp_path: Path, config_path: Path, seed: int = 6) -> Iterator[Daemon]:
    """The daemon on `config_path` over a quiet simulated shelf (factory calibration installed), for 10 minutes
    of scenario time at 80 SPS."""
    config = load_config(config_path)
    layout = ShelfLayout.from_config(config, seed=seed)
    install_factory_calibration(config, layout)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.setblocking(False)
    control, log = tmp_path / "control.sock", tmp_path / "daemon.log"
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "1000000",
           "PYTHONPATH": str(REPO)}
    env.pop("WATCHDOG_PID", None)
    scenario = generate_scenario(seed, 600.0, layout)
    with PtyShelf(scenario, layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        process = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                    "--socket", str(control)], env=env, stderr=log.open("wb"))
        try:
            yield Daemon(process, notify, control, config_path, scenario, shelf, log)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            notify.close()
