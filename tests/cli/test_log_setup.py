"""Log lines under journald (no timestamp, syslog priority), per-component levels, JSON lines; the daemon's
real stderr in a subprocess whose $JOURNAL_STREAM names it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli.log_setup import JournalFormatter, parse_levels, under_journald

EMIT = """
import logging, sys
from edge.cli.log_setup import configure
configure(sys.argv[1], sys.argv[2], sys.argv[3])
logging.getLogger("edge.mqtt.link").debug("mqtt detail")
logging.getLogger("edge.loadcell.reader").info("serial detail")
logging.getLogger("edge.node").warning("check the cable")
"""


def run_emitter(tmp_path: Path, journal: bool, *args: str) -> list[str]:
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        stat = os.fstat(stderr.fileno())
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        env.pop("JOURNAL_STREAM", None)
        if journal:
            env["JOURNAL_STREAM"] = f"{stat.st_dev}:{stat.st_ino}"
        subprocess.run([sys.executable, "-c", EMIT, *args], stderr=stderr, env=env, check=True, timeout=60)
    return err.read_text().splitlines()


def test_under_journald_no_timestamp_and_a_syslog_priority(tmp_path: Path) -> None:
    lines = run_emitter(tmp_path, True, "info", "", "text")
    assert lines == ["<6>edge.loadcell.reader: serial detail", "<4>edge.node: check the cable"]


def test_outside_journald_lines_carry_their_time(tmp_path: Path) -> None:
    lines = run_emitter(tmp_path, False, "info", "", "text")
    assert len(lines) == 2 and lines[1].endswith("WARNING edge.node: check the cable") and lines[1][:4].isdigit()


def test_levels_per_component(tmp_path: Path) -> None:
    lines = run_emitter(tmp_path, True, "info", "edge.mqtt=debug,edge.loadcell=warning", "text")
    assert lines == ["<7>edge.mqtt.link: mqtt detail", "<4>edge.node: check the cable"]


def test_json_lines(tmp_path: Path) -> None:
    records = [json.loads(line) for line in run_emitter(tmp_path, True, "warning", "", "json")]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [("warning", "edge.node", "check the cable")]
    assert isinstance(records[0]["ts"], float)


def test_a_traceback_keeps_its_priority_on_every_line() -> None:
    """journald splits on newlines: each line of a traceback needs the <3> of the error that logged it."""
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        record = logging.LogRecord("edge.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    lines = JournalFormatter().format(record).splitlines()
    assert lines[0] == "<3>edge.x: failed" and len(lines) > 3
    assert all(line.startswith("<3>") for line in lines) and lines[-1] == "<3>ZeroDivisionError: boom"
    assert not under_journald(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


@pytest.mark.parametrize("bad", ["edge.mqtt", "edge.mqtt=loud", "=debug"])
def test_bad_component_levels_are_named(bad: str) -> None:
    with pytest.raises(ValueError, match="COMPONENT=LEVEL"):
        parse_levels(bad)
