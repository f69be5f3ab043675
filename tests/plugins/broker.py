"""A real mosquitto on a free loopback port, per test, with kill -9 and restart on the same port.

`mosquitto_factory(**options)` starts a broker and returns a `Broker`; options add TLS, password
and ACL files written by the test. Every broker started is stopped at teardown. Persistence is on
(in the test's tmp dir, saved after every change) so a persistent-session subscriber survives a
kill -9 of the broker.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.demo.broker import MOSQUITTO, LocalBroker, free_port

# One launcher for tests, the demo and the benchmarks; `Broker` is the name the tests use.
Broker = LocalBroker


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
