"""Issue 14 Tests: "the watchdog stops when the serial stream stalls": `shelf-node run` as a subprocess with a
NOTIFY_SOCKET and WATCHDOG_USEC the test sets up, on the simulated pty shelf and a real mosquitto, with a short
`[health] serial_stall_s` (the 60 s default would make the test a minute long). The shelf stops sending while the
pty stays open (a hung board): the WATCHDOG=1 pings stop, so systemd would restart the service; the daemon itself
runs on and still answers `status`, which says why."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def _drain(notify: socket.socket, into: list[str]) -> list[str]:
    while True:
        try:
            into.append(notify.recv(4096).decode())
        except (TimeoutError, BlockingIOError):
            return into


def test_the_watchdog_stops_when_the_serial_stream_stalls(tmp_path: Path, broker: Broker) -> None:
    config_path, config = write_node_config(tmp_path, broker_port=broker.port)
    config_path.write_text(config_path.read_text() + "\n[health]\nserial_stall_s = 2\n")
    layout = ShelfLayout.from_config(config, seed=6)
    install_factory_calibration(config, layout)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.setblocking(False)
    control = tmp_path / "control.sock"
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "1000000",
           "PYTHONPATH": str(REPO)}
    env.pop("WATCHDOG_PID", None)
    log = tmp_path / "daemon.log"
    messages: list[str] = []
    with PtyShelf(generate_scenario(6, 600.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        process = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                    "--socket", str(control)], env=env, stderr=log.open("wb"))
        try:
            assert wait_until(lambda: "WATCHDOG=1" in _drain(notify, messages), 30), log.read_text()
            pings = _drain(notify, messages).count("WATCHDOG=1")
            time.sleep(1.2)
            assert _drain(notify, messages).count("WATCHDOG=1") > pings, "not fed while healthy"

            shelf.request_stop()  # the playing thread ends; the pty stays open: a hung board
            stalled = CliRunner().invoke(cli, ["status", "--socket", str(control)])
            assert wait_until(lambda: "no weight frame for" in CliRunner().invoke(
                cli, ["status", "--socket", str(control)]).output, 10), stalled.output
            time.sleep(0.6)  # a ping already on its way
            pings = _drain(notify, messages).count("WATCHDOG=1")
            time.sleep(2.0)
            assert _drain(notify, messages).count("WATCHDOG=1") == pings, "the watchdog is still fed"
            assert process.poll() is None  # systemd restarts it on the missed watchdog; it does not exit itself
            shown = CliRunner().invoke(cli, ["status", "--socket", str(control)])
            assert shown.exit_code == 1 and "FAULT" in shown.output, shown.output
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            notify.close()
