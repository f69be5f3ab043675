"""A private mosquitto on a free loopback port: for the demo, the tests and the benchmarks.

    broker = LocalBroker(workdir).start()     # listens on 127.0.0.1:<broker.port>
    broker.kill(); broker.start()             # kill -9 and restart on the same port (outage tests)
    broker.stop()

Persistence lives in `workdir` and is saved on every change, so a persistent-session subscriber
survives a kill -9 of the broker. Never touches the system broker on :1883.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MOSQUITTO = os.environ.get("SHELF_NODE_MOSQUITTO", "/usr/sbin/mosquitto")
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_available() -> bool:
    return Path(MOSQUITTO).is_file()


@dataclass
class LocalBroker:
    workdir: Path
    port: int = field(default_factory=free_port)
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

    def start(self) -> LocalBroker:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("broker already running")
        if not mosquitto_available():
            raise FileNotFoundError(f"mosquitto not found at {MOSQUITTO}: apt-get install mosquitto "
                                    f"(or set SHELF_NODE_MOSQUITTO)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err} {self.log_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"mosquitto did not accept connections on port {self.port} within {START_TIMEOUT_S}s")

    def kill(self) -> None:
        """kill -9: no clean shutdown, nothing flushed beyond what autosave already wrote."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> LocalBroker:
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
