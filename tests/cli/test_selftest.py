"""`shelf-node selftest` with the daemon stopped: the simulated shelf on a real pty and a real mosquitto
(everything passes), then a node whose port, calibration and broker are missing (each fails with its fix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edge.cli import cli
from edge.cli.selftest_checks import check_clock
from edge.demo.broker import free_port
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker

GPIO = "\n[gpio]\nstatus_led = 17\nbutton = 27\npin_factory = \"mock\"\n"


def selftest(config: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["selftest", "--config", str(config), "--socket", str(tmp_path / "none.sock"),
                                      "--json", "--serial-seconds", "1.5"])
    return result.exit_code, json.loads(result.output)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def test_a_working_shelf_passes_with_the_daemon_stopped(tmp_path: Path, broker: Broker) -> None:
    path, config = write_node_config(tmp_path, broker_port=broker.port)
    path.write_text(path.read_text() + GPIO)
    layout = ShelfLayout.from_config(config, seed=4)
    install_factory_calibration(config, layout)
    with PtyShelf(generate_scenario(4, 60.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        code, report = selftest(path, tmp_path)
    checks = by_name(report)
    assert report["mode"] == "daemon stopped (checks the hardware directly)"
    assert list(checks) == ["config", "serial port", "frames", "calibration", "model", "camera", "broker", "disk",
                            "clock", "gpio"]
    assert all(c["result"] in ("pass", "warn") for c in checks.values()), report
    assert code == 0 and report["ok"] is True
    assert "frames/s" in checks["frames"]["detail"] and "came back" in checks["broker"]["detail"]
    assert "LED flashed" in checks["gpio"]["detail"]


def test_each_failure_names_its_fix(tmp_path: Path) -> None:
    path, _ = write_node_config(tmp_path, broker_port=free_port())
    code, report = selftest(path, tmp_path)
    checks = by_name(report)
    assert code == 1 and report["ok"] is False
    assert checks["serial port"]["result"] == "fail" and "/dev/serial/by-id/" in checks["serial port"]["fix"]
    assert checks["frames"]["result"] == "fail" and "no weight frame" in checks["frames"]["detail"]
    assert checks["calibration"]["result"] == "fail" and "shelf-node calibrate" in checks["calibration"]["fix"]
    assert checks["broker"]["result"] == "fail" and "refused" in checks["broker"]["detail"]
    human = CliRunner().invoke(cli, ["selftest", "--config", str(path), "--socket", str(tmp_path / "none.sock"),
                                     "--serial-seconds", "0.5", "--skip", "frames"])
    assert "fix calibration: shelf-node calibrate PLATE" in human.output and "selftest: FAILED" in human.output
    assert "\nframes " not in human.output  # skipped


def test_the_clock_check_reads_timedatectl() -> None:
    assert check_clock(lambda args: "yes\n").result == "pass"
    unsynced = check_clock(lambda args: "no\n")
    assert unsynced.result == "fail" and "timesync-status" in str(unsynced.fix)
