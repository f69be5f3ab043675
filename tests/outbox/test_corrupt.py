"""Issue 11 #18: a corrupt outbox says "corrupt" and what to do; salvage keeps what is readable. Real files."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.publisher import weight_body
from edge.outbox import Outbox, OutboxCorruptError, open_outbox
from edge.outbox.salvage import salvage
from tests.mqtt.nodecfg import node_config, write_config

EVENTS = 300
PAGE = 4096


def filled(path: Path, events: int = EVENTS) -> Path:
    box = Outbox(path)
    for i in range(events):
        box.append("weight", weight_body(i, ["p1", "p2"]), 1_790_000_000.0 + i)
    box.mark_delivered([1, 2])
    box.next_session()
    box.next_session()
    box.close()  # the last connection checkpoints the WAL into the file
    return path


def damage_a_middle_page(path: Path) -> None:
    """Garbage over one page in the middle of the events table: its rows are lost, the rest readable."""
    pages = path.stat().st_size // PAGE
    assert pages > 10, "the test needs a file of many pages"
    with path.open("r+b") as handle:
        handle.seek(PAGE * (pages // 2))
        handle.write(os.urandom(PAGE))


def test_random_bytes_and_a_damaged_page_both_say_corrupt_and_what_to_do(tmp_path: Path) -> None:
    noise = tmp_path / "noise.sqlite3"
    noise.write_bytes(os.urandom(20_000))
    damaged = filled(tmp_path / "damaged.sqlite3")
    damage_a_middle_page(damaged)
    for path in (noise, damaged):
        with pytest.raises(OutboxCorruptError) as caught:
            Outbox(path)
        message = str(caught.value)
        assert "is corrupt" in message and "shelf-node outbox salvage" in message
        assert "permissions" not in message


def test_salvage_keeps_the_readable_events_and_the_counters(tmp_path: Path) -> None:
    path = filled(tmp_path / "outbox.sqlite3")
    damage_a_middle_page(path)
    report = salvage(path)
    assert Path(report.kept_aside).is_file() and report.counters_recovered
    assert 0 < report.events < EVENTS - 2 and report.unreadable > 0
    box = Outbox(path)  # the new file opens cleanly
    try:
        seqs = [row.seq for row in box.iter_rows()]
        status = box.status()
        assert seqs == sorted(seqs) and seqs[0] == 3 and len(seqs) == report.events
        assert (status.last_seq, status.session) == (EVENTS, 2)  # seq and session never go backwards
        assert box.append("weight", weight_body(0, ["p1"]), 0.0).seq == EVENTS + 1
        assert "salvaged from" in (status.last_error or "")
    finally:
        box.close()


def test_status_and_export_say_corrupt_and_salvage_repairs(tmp_path: Path) -> None:
    config = write_config(tmp_path, 1883)
    path = filled(tmp_path / "state" / "outbox.sqlite3")
    damage_a_middle_page(path)
    runner = CliRunner()
    for args in (["outbox", "status"], ["outbox", "export"]):
        result = runner.invoke(cli, [*args, "--config", str(config)])
        assert result.exit_code == 1 and "is corrupt" in result.output and "outbox salvage" in result.output
    fixed = runner.invoke(cli, ["outbox", "salvage", "--config", str(config), "--json"])
    assert fixed.exit_code == 0, fixed.output
    report = json.loads(fixed.stdout)
    assert report["counters_recovered"] and report["events"] > 0
    again = runner.invoke(cli, ["outbox", "salvage", "--config", str(config)])
    assert again.exit_code == 0 and "not corrupt" in again.output
    status = runner.invoke(cli, ["outbox", "status", "--config", str(config), "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["depth"] == report["events"]


def test_the_daemon_moves_a_corrupt_outbox_aside_loudly_and_keeps_recording(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = node_config(tmp_path, 1883)
    path = tmp_path / "state" / "outbox.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(50_000))  # nothing readable: not even the counters
    with caplog.at_level(logging.ERROR):
        box = open_outbox(config)
    try:
        assert box.append("weight", weight_body(0, ["p1"]), 0.0).seq == 1
    finally:
        box.close()
    assert any("is corrupt" in r.getMessage() for r in caplog.records)
    assert any("counters UNREADABLE" in r.getMessage() for r in caplog.records)
    assert len(list(path.parent.glob("outbox.sqlite3.corrupt-*"))) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_salvage_of_random_bytes_counts_no_phantom_unreadable_events(tmp_path: Path) -> None:
    """A file that is not a database holds no rows to step over: it was reported as 100000 unreadable."""
    noise = tmp_path / "outbox.sqlite3"
    noise.write_bytes(os.urandom(20_000))
    report = salvage(noise)
    assert (report.events, report.unreadable) == (0, 0)
    assert "not a database" in report.summary()


def test_salvage_counts_damage_only_below_the_last_seq_it_knows(tmp_path: Path) -> None:
    """Probing past the last event (a damaged last page) is not counted as lost events."""
    path = filled(tmp_path / "outbox.sqlite3")
    pages = path.stat().st_size // PAGE
    with path.open("r+b") as handle:  # garbage over the last page: the table's tail rows
        handle.seek(PAGE * (pages - 1))
        handle.write(os.urandom(PAGE))
    report = salvage(path)
    assert report.events + report.unreadable <= EVENTS
