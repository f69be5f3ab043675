"""A real mosquitto on a free loopback port, per test, with kill -9 and restart on the same port.

`mosquitto_factory(**options)` starts a broker and returns a `Broker`; options add TLS, password
and ACL files written by the test. Every broker started is stopped at teardown. Persistence is on
(in the test's tmp dir, saved after every change) so a persistent-session subscriber survives a
kill -9 of the broker.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MOSQUITTO = os.environ.get("SHELF_NODE_MOSQUITTO", "/usr/sbin/mosquitto")
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    workdir: Path
    port: int
    extra_conf: list[str] = field(default_factory=list)
    persistence: bool = True
    proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def conf_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def _write_conf(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", f"log_dest file {self.log_path}",
                 "log_type error", "log_type warning", "log_type notice", "log_type information",
                 "max_queued_messages 0",
                 # started as root, mosquitto would switch to user 'mosquitto' and lose access to workdir
                 f"user {getpass.getuser()}"]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/",
                      "autosave_interval 1", "autosave_on_changes true"]
        if not any(line.startswith("allow_anonymous") for line in self.extra_conf):
            lines.append("allow_anonymous true")
        self.conf_path.write_text("\n".join(lines + self.extra_conf) + "\n")

    def start(self) -> Broker:
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        self._write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err} {log[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"mosquitto did not accept connections on port {self.port} within {START_TIMEOUT_S}s")

    def kill(self) -> None:
        """kill -9: no clean shutdown, no Will suppression, nothing flushed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> Broker:
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def write_password_file(path: Path, users: dict[str, str]) -> Path:
    """A mosquitto password file made by the real mosquitto_passwd."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("needs mosquitto_passwd (Debian package mosquitto)")
    path.unlink(missing_ok=True)
    for user, password in users.items():
        args = [tool, "-b"] + ([] if path.exists() else ["-c"]) + [str(path), user, password]
        subprocess.run(args, check=True, capture_output=True)
    path.chmod(0o600)
    return path


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    if not Path(MOSQUITTO).is_file():
        pytest.skip(f"needs mosquitto at {MOSQUITTO} (apt-get install mosquitto, or set SHELF_NODE_MOSQUITTO)")
    started: list[Broker] = []

    def start(extra_conf: list[str] | None = None, persistence: bool = True, start: bool = True) -> Broker:
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        broker = Broker(workdir, free_port(), list(extra_conf or []), persistence)
        started.append(broker)
        return broker.start() if start else broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def broker(mosquitto_factory: Callable[..., Broker]) -> Broker:
    """A plain anonymous broker on a free loopback port."""
    return mosquitto_factory()
