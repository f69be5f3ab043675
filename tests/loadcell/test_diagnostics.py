"""What a technician reads when the line is bad or the port is taken (issue 11 #19, #22): a rate-limited
warning with the likely cause, and `serial watch` failing at once on a port the running daemon holds."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import write_node_config
from edge.loadcell.bad_lines import BadLineAlarm
from edge.loadcell.framing import weight_frame
from edge.loadcell.reader import SerialReader, port_holders
from edge.loadcell.serial_status import SerialHealth
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.waiting import wait_until
from tests.sim.helpers import quiet_scenario

from .helpers import FAST, Collector, PtyMcu, section


def test_many_bad_lines_give_one_warning_per_window_with_the_likely_cause(caplog: pytest.LogCaptureFixture) -> None:
    mcu = PtyMcu()
    got = Collector()
    reader = SerialReader(section(port=mcu.path, **FAST), got.on_frame,
                          bad_lines=BadLineAlarm(window_s=0.3)).start()
    try:
        assert wait_until(lambda: reader.health.connected), "open"
        for seq in range(40):  # a baud-rate mismatch: garbage, and a few frames that still make it
            mcu.send(b"\xf8\x1c\xe0~\x03garbled\n" if seq % 4 else weight_frame(seq, seq * 12, [1, 2, 3, 4]))
        assert wait_until(lambda: reader.health.lines == 40), "40 lines"

        def warned() -> bool:
            mcu.send(b"junk\n")  # the check runs as data arrives
            return "likely cause" in caplog.text

        assert wait_until(warned), "the bad-lines warning"
    finally:
        reader.stop(timeout=1.0)
        mcu.unplug()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "bad" in r.getMessage()]
    assert len(warnings) >= 1, caplog.text
    first = warnings[0]
    assert "serial lines were bad in the last" in first and "bad_framing" in first
    assert "likely cause: serial.baudrate" in first


def test_the_alarm_is_silent_on_a_clean_line_and_names_noise_for_checksum_errors() -> None:
    health = SerialHealth(4)
    alarm = BadLineAlarm(window_s=10.0)
    assert alarm.check(health, 0.0) is None
    health.lines, health.frames_ok = 1000, 1000
    assert alarm.check(health, 11.0) is None  # a clean window
    health.lines, health.frames_ok, health.checksum_errors = 2000, 1900, 100
    assert alarm.check(health, 15.0) is None  # rate-limited: not a window yet
    message = alarm.check(health, 22.0)
    assert message is not None and message.startswith("100 of 1000 serial lines were bad in the last 11 s (10%")
    assert "checksum 100" in message and "likely cause: line noise" in message
    health.lines, health.malformed["field_count"] = 2100, 100
    assert "serial.channels does not match" in str(alarm.check(health, 40.0))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serial_watch_on_the_port_the_daemon_holds_fails_at_once_naming_it(tmp_path: Path) -> None:
    config_path, config = write_node_config(tmp_path, broker_port=_closed_port())
    layout = ShelfLayout.from_config(config, seed=2)
    shelf = PtyShelf(quiet_scenario(120.0), layout, sps=40, link_path=tmp_path / "shelf-tty").start()
    log = (tmp_path / "daemon.log").open("wb")
    daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        holding = lambda: any(pid == daemon.pid for pid, _ in port_holders(str(tmp_path / "shelf-tty")))  # noqa: E731
        assert wait_until(holding, timeout=30), "the daemon to open the serial port"
        started = time.monotonic()
        # a real process: its log lines reach stderr too (CliRunner would not show the reader's warning)
        result = subprocess.run([sys.executable, "-m", "edge", "serial", "watch", "--config", str(config_path),
                                 "--duration", "60"], capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
        # the offline calibration commands refuse too: the daemon would overwrite their change
        undo = CliRunner().invoke(cli, ["calibration", "undo", "--config", str(config_path)])
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(20)
        log.close()
        shelf.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # one line, one hint: no "retrying with backoff" warning before it
    assert f"in use by the running shelf-node daemon (pid {daemon.pid})" in lines[0]
    assert "fix serial.port" not in lines[0]
    assert elapsed < 10  # not retried until the 60 s duration ran out
    assert undo.exit_code == 1 and f"the running shelf-node daemon (pid {daemon.pid}) holds the calibration" in (
        undo.stderr)


def test_a_port_held_by_another_program_names_that_program(tmp_path: Path) -> None:
    mcu = PtyMcu()
    holder = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'rb'); "
                               "import fcntl, signal; fcntl.flock(f, fcntl.LOCK_EX); signal.pause()", mcu.path])
    try:
        assert wait_until(lambda: any(pid == holder.pid for pid, _ in port_holders(mcu.path))), "the holder"
        reader = SerialReader(section(port=mcu.path, **FAST), lambda frame: None).start()
        try:
            assert wait_until(lambda: reader.health.port_busy), "the busy port"
        finally:
            reader.stop(timeout=1.0)
    finally:
        holder.kill()
        holder.wait()
        mcu.unplug()
    error = str(reader.status().port.last_error)
    assert f"in use by process {holder.pid} (" in error and "sys.argv" in error
    assert os.getpid() not in [pid for pid, _ in port_holders(mcu.path)]
