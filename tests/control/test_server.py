"""The control socket over a real Unix socket: answers, refusals, a handler that crashes, stale sockets."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.control import ControlClient, ControlError, ControlServer, DaemonNotRunning, Handler, HandlerTable
from edge.errors import CommandError, NotStableError


@dataclass(frozen=True, slots=True)
class GramsStatus:
    """A typed status record, as the node's producers expose them."""

    grams: float
    stable: bool

    def to_json(self) -> dict[str, Any]:
        return {"grams": self.grams, "stable": self.stable}


class Plate:
    """A plate with a zero that `tare` moves, refused while it moves."""

    def __init__(self) -> None:
        self.zero = 0.0
        self.moving = False

    def tare(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.moving:
            raise NotStableError("plate p1 is moving; wait until it is stable")
        self.zero += 12.5
        return {"tared": {"p1": self.zero}}


def crash(args: dict[str, Any]) -> dict[str, Any]:
    raise ZeroDivisionError("a handler bug")


def refuse(args: dict[str, Any]) -> dict[str, Any]:
    raise CommandError(f"plate must be one of ['p1'], got {args.get('plate')!r}")


@pytest.fixture
def plate() -> Plate:
    return Plate()


@pytest.fixture
def server(tmp_path: Path, plate: Plate) -> Iterator[ControlServer]:
    table = HandlerTable({"status": Handler(lambda args: GramsStatus(251.5, True)),
                          "crash": Handler(crash), "refuse": Handler(refuse, params=("plate",))})
    table.register("tare", plate.tare, changes_state=True, description="zero p1", params=("plate",))
    control = ControlServer(tmp_path / "control.sock", table, group=None).start()
    yield control
    control.stop()


def raw_exchange(path: Path, payload: bytes) -> list[dict[str, Any]]:
    """Send raw bytes, read every answer line until the server is done with us (or 2 s of quiet)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def test_status_record_and_state_change_round_trip(server: ControlServer, plate: Plate) -> None:
    with ControlClient(server.path) as client:
        assert client.request("status") == {"grams": 251.5, "stable": True}
        assert client.request("tare", {"plate": "p1"}) == {"tared": {"p1": 12.5}}
        assert client.request("tare") == {"tared": {"p1": 25.0}}
    assert plate.zero == 25.0
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o660
    assert server.status().requests == 3 and server.status().refused == 0


def test_help_lists_commands_with_their_args(server: ControlServer) -> None:
    commands = {c["name"]: c for c in ControlClient(server.path).connect().request("help")["commands"]}
    assert commands["tare"] == {"name": "tare", "changes_state": True, "args": ["plate"], "description": "zero p1"}
    assert commands["status"]["changes_state"] is False


def test_garbage_gets_clear_errors_and_the_connection_keeps_serving(server: ControlServer) -> None:
    lines = [b"\xff\xfe not utf-8", b"[1, 2]", b'{"cmd": "status", "args": NaN}', b'{"cmd": 5}',
             b'{"cmd": "stauts", "id": "a"}', b'{"cmd": "tare", "args": {"plates": ["p1"]}, "id": 9}',
             b'{"cmd": "status", "args": [], "id": 10}', b'{"cmd": "status", "extra": 1}',
             b'{"cmd": "status", "id": 11}']
    answers = raw_exchange(server.path, b"\n".join(lines) + b"\n")
    codes = [a["error"]["code"] if not a["ok"] else "ok" for a in answers]
    assert codes == ["malformed", "malformed", "malformed", "malformed", "unknown_command", "invalid_args",
                     "invalid_args", "malformed", "ok"]
    assert "stauts" in answers[4]["error"]["message"] and "tare" in answers[4]["error"]["message"]
    assert "'plates'" in answers[5]["error"]["message"] and "plate" in answers[5]["error"]["message"]
    assert [a["id"] for a in answers[4:]] == ["a", 9, 10, None, 11]
    assert answers[-1]["result"] == {"grams": 251.5, "stable": True}
    assert server.status().refused == 8


def test_a_deeply_nested_line_is_malformed_and_the_connection_keeps_serving(server: ControlServer) -> None:
    """Same class as issue 11: 10 KB of '[' (under the line limit) raised RecursionError in json.loads."""
    answers = raw_exchange(server.path, b"[" * 5000 + b"]" * 5000 + b'\n{"cmd": "status", "id": 1}\n')
    assert [a["error"]["code"] if not a["ok"] else "ok" for a in answers] == ["malformed", "ok"]


def test_a_line_over_the_limit_is_refused_and_only_that_client_dropped(server: ControlServer) -> None:
    answers = raw_exchange(server.path, b'{"cmd": "status", "pad": "' + b"x" * 70000)
    assert [a["error"]["code"] for a in answers] == ["too_large"]
    assert ControlClient(server.path).connect().request("status")["grams"] == 251.5


def test_handler_errors_become_answers_and_a_crash_is_logged_not_fatal(
        server: ControlServer, plate: Plate, caplog: pytest.LogCaptureFixture) -> None:
    plate.moving = True
    with ControlClient(server.path) as client, caplog.at_level(logging.INFO, logger="edge.control.server"):
        with pytest.raises(ControlError) as refused:
            client.request("refuse", {"plate": "p9"})
        assert refused.value.code == "invalid_args" and "'p9'" in refused.value.message
        with pytest.raises(ControlError) as moving:
            client.request("tare")
        assert moving.value.code == "failed" and "wait until it is stable" in moving.value.message
        with pytest.raises(ControlError) as crashed:
            client.request("crash")
        assert crashed.value.code == "internal" and "ZeroDivisionError" in crashed.value.message
        assert client.request("status")["stable"] is True  # still serving on the same connection
    assert "Traceback" in caplog.text and "a handler bug" in caplog.text
    assert f"uid {os.getuid()}" in caplog.text and "tare" in caplog.text  # logged with the caller
    assert server.status().internal_errors == 1 and plate.zero == 0.0


def test_client_says_the_daemon_is_not_running(tmp_path: Path) -> None:
    with pytest.raises(DaemonNotRunning, match="not running"):
        ControlClient(tmp_path / "nothing.sock").connect()


def test_a_stale_socket_is_taken_over_a_live_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "control.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: a killed daemon's leftover
    first = ControlServer(path, HandlerTable({"status": Handler(lambda args: {"n": 1})}), group=None).start()
    try:
        with pytest.raises(ControlError, match="another daemon already answers"):
            ControlServer(path, HandlerTable(), group=None).start()
        assert ControlClient(path).connect().request("status") == {"n": 1}
    finally:
        first.stop()
    assert not path.exists()


def test_a_regular_file_in_the_way_is_named(tmp_path: Path) -> None:
    path = tmp_path / "control.sock"
    path.write_text("not a socket")
    with pytest.raises(ControlError, match="is not a socket"):
        ControlServer(path, HandlerTable(), group=None).start()
    assert path.read_text() == "not a socket"


def test_every_request_is_logged_with_the_callers_uid(server: ControlServer, caplog: pytest.LogCaptureFixture) -> None:
    """A read-only command is logged at INFO once per caller process, however many connections it opens (then at
    DEBUG: `weights --watch` connects twice a second), a state change every time."""
    uid = f"uid {os.getuid()}"
    with caplog.at_level(logging.DEBUG, logger="edge.control.server"):
        with ControlClient(server.path) as client:
            for _ in range(3):
                client.request("status")
            client.request("tare")
            client.request("tare")
        with ControlClient(server.path) as again:
            again.request("status")

    def lines(level: int, cmd: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == level and f": {cmd} " in r.getMessage()]

    assert len(lines(logging.INFO, "status")) == 1 and uid in lines(logging.INFO, "status")[0]
    assert len(lines(logging.DEBUG, "status")) == 3 and all(uid in line for line in lines(logging.DEBUG, "status"))
    assert len(lines(logging.INFO, "tare")) == 2 and all(uid in line for line in lines(logging.INFO, "tare"))
