"""No process outlives the test session: at its end, any process the tests started and left running (a
mosquitto, a daemon, a simulator) is named, ended, and the session fails.

Found two ways: descendants of the pytest process, and processes whose command line names the session's
temporary directory (one that was re-parented when its parent died). Zombies are not counted (already dead).
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from tests.plugins.waiting import wait_until


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (ppid, state, command line) of every process we may read."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return found


def leftover_processes(root_pid: int, marker: str | None) -> dict[int, str]:
    """Live descendants of `root_pid`, and live processes whose command line contains `marker`: pid -> command."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, []))
    if marker:
        found |= {pid for pid, (_, _, cmdline) in table.items() if marker in cmdline}
    found.discard(os.getpid())
    return {pid: table[pid][2] for pid in sorted(found) if table[pid][1] != "Z"}


def _end(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        if wait_until(lambda: not any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in pids), 3):
            return


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    # with its trailing slash: /tmp/pytest-of-root/pytest-56 must not match a concurrent session's pytest-567
    marker = f"{factory.getbasetemp()}/" if factory is not None and factory._basetemp is not None else None
    # a process stopped at a teardown may take a moment to exit: only what stays counts
    left: dict[int, str] = {}

    def settled() -> bool:
        left.clear()
        left.update(leftover_processes(os.getpid(), marker))
        return not left

    if settled() or wait_until(settled, 5.0, step=0.2):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(left)} process(es) left running by the tests (ended now):"]
    lines += [f"  pid {pid}: {command[:200]}" for pid, command in left.items()]
    if reporter is not None:
        reporter.write_sep("=", "leftover processes", red=True)
        for line in lines:
            reporter.write_line(line)
    _end(list(left))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
