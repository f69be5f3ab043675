"""State-changing commands from another uid: the client runs as `nobody` (with and without the group),
a real process whose credentials the server reads with SO_PEERCRED and /proc."""

from __future__ import annotations

import grp
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.control import ControlServer, Handler, HandlerTable

NOBODY = 65534
# stdlib only: the venv's interpreter may sit where `nobody` cannot read it
CLIENT = r"""
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(sys.argv[1])
except OSError as exc:
    print(json.dumps({"connect_error": exc.strerror}))
    sys.exit(0)
for cmd in sys.argv[2:]:
    sock.sendall(json.dumps({"cmd": cmd}).encode() + b"\n")
    line = b""
    while not line.endswith(b"\n"):
        line += sock.recv(65536)
    print(line.decode().strip())
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("python3") is None,
                                reason="needs root (to run a client as another uid) and a system python3")


def a_group_without_nobody() -> grp.struct_group:
    for group in grp.getgrall():
        if group.gr_gid not in (0, NOBODY) and "nobody" not in group.gr_mem:
            return group
    pytest.skip("no group to test membership with")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory `nobody` can reach (pytest's tmp_path is under root's 0700 tree)."""
    directory = Path(tempfile.mkdtemp(prefix="shelf-control-", dir="/tmp"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


def as_nobody(socket_path: Path, *cmds: str, extra_groups: list[int] | None = None) -> list[dict[str, Any]]:
    python = shutil.which("python3", path="/usr/bin:/bin") or "python3"
    result = subprocess.run([python, "-c", CLIENT, str(socket_path), *cmds], user=NOBODY, group=NOBODY,
                            extra_groups=extra_groups or [], capture_output=True, text=True, timeout=30, check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def serve(path: Path, group: str, mode: int, taken: list[int]) -> ControlServer:
    table = HandlerTable({"status": Handler(lambda args: {"ok": True})})

    def tare(args: dict[str, Any]) -> dict[str, Any]:
        taken.append(1)
        return {"tared": len(taken)}

    table.register("tare", tare, changes_state=True)
    return ControlServer(path, table, group=group, mode=mode).start()


def test_the_socket_lets_only_owner_and_group_connect(shared_dir: Path) -> None:
    group = a_group_without_nobody()
    taken: list[int] = []
    server = serve(shared_dir / "control.sock", group.gr_name, 0o660, taken)
    try:
        assert (shared_dir / "control.sock").stat().st_gid == group.gr_gid
        assert as_nobody(server.path, "status", "tare") == [{"connect_error": "Permission denied"}]
        member = as_nobody(server.path, "status", "tare", extra_groups=[group.gr_gid])
    finally:
        server.stop()
    assert [answer["ok"] for answer in member] == [True, True] and taken == [1]


def test_a_non_member_may_read_but_not_change_state(shared_dir: Path) -> None:
    """With a socket anyone may connect to, the per-request check is what stands in the way."""
    group = a_group_without_nobody()
    taken: list[int] = []
    server = serve(shared_dir / "control.sock", group.gr_name, 0o666, taken)
    try:
        outsider = as_nobody(server.path, "status", "tare")
        member = as_nobody(server.path, "tare", extra_groups=[group.gr_gid])
    finally:
        server.stop()
    assert outsider[0] == {"id": None, "ok": True, "result": {"ok": True}}
    assert outsider[1]["error"]["code"] == "forbidden"
    assert f"group {group.gr_name}" in outsider[1]["error"]["message"]
    assert member[0]["ok"] is True and taken == [1]  # the outsider's tare never ran
    assert server.status().refused == 1
