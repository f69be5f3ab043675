"""sd_notify over a real unix datagram socket, the watchdog gate, and the unit file's validity."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edge import systemd
from edge.daemon import run_until_signalled

REPO = Path(__file__).resolve().parents[1]


class FakeNode:
    """A stand-in for edge.node.Node with a switchable health (the daemon loop is what is tested)."""

    def __init__(self) -> None:
        self.is_healthy = True
        self.failure: str | None = None
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def healthy(self) -> bool:
        return self.is_healthy

    def status_line(self) -> str:
        return "fake"

    def failed(self) -> str | None:
        return self.failure


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def drain(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            return messages


def test_notify_is_a_noop_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False


def test_watchdog_interval_is_half_of_watchdog_sec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval_s() == pytest.approx(0.2)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval_s() is None


def test_daemon_reports_ready_pings_only_while_healthy_and_stops(notify_socket: socket.socket,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    node, stop = FakeNode(), threading.Event()
    thread = threading.Thread(target=run_until_signalled, args=(node, stop), kwargs={"tick_s": 0.01})
    thread.start()
    time.sleep(0.4)
    healthy_messages = drain(notify_socket)
    node.is_healthy = False
    drain(notify_socket)
    time.sleep(0.4)
    unhealthy_messages = drain(notify_socket)
    stop.set()
    thread.join(5)
    final = drain(notify_socket)
    assert healthy_messages[0] == "READY=1"
    assert healthy_messages.count("WATCHDOG=1") >= 3
    assert "WATCHDOG=1" not in unhealthy_messages
    assert "STOPPING=1" in final
    assert node.started and node.stopped


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian: systemd)")
def test_unit_file_verifies(tmp_path: Path) -> None:
    unit = tmp_path / "shelf-node.service"
    unit.write_text((REPO / "systemd" / "shelf-node.service").read_text())
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    complaints = [line for line in result.stderr.splitlines() if "is not executable" not in line and line.strip()]
    assert complaints == []


def test_daemon_exits_non_zero_when_a_worker_dies(notify_socket: socket.socket) -> None:
    node = FakeNode()
    node.failure = "the processing thread died"
    assert run_until_signalled(node, threading.Event(), tick_s=0.01) == 1
    assert node.stopped


def test_an_unreachable_notify_socket_is_warned_about_once_and_never_crashes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert systemd.notify("READY=1") is False
    assert systemd.notify("WATCHDOG=1") is False
    assert caplog.text.count("cannot notify systemd") == 1
    node = FakeNode()
    assert run_until_signalled(node, _stopped_after(0.1), tick_s=0.01) == 0
    assert node.started and node.stopped


def _stopped_after(seconds: float) -> threading.Event:
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    return stop
