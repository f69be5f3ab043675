"""`shelf-node run` as a subprocess, as systemd runs it: a NOTIFY_SOCKET and WATCHDOG_USEC the test sets up,
the simulated shelf on a pty, a real mosquitto, the control socket given with --socket; the technician
commands against it; SIGTERM. (The unit's $RUNTIME_DIRECTORY default is the same path logic.)"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import write_node_config
from edge.sim.planogram_doc import planogram_document
from tests.cli.daemon_process import Daemon, run_daemon
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


@pytest.fixture
def daemon(tmp_path: Path, broker: Broker) -> Iterator[Daemon]:
    config_path, _ = write_node_config(tmp_path, broker_port=broker.port)
    with run_daemon(tmp_path, config_path) as running:
        yield running


def cli_json(daemon: Daemon, *args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, [*args, "--json", "--socket", str(daemon.control)])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def test_ready_watchdog_the_control_socket_and_stopping(daemon: Daemon, tmp_path: Path) -> None:
    assert wait_until(lambda: "READY=1" in daemon.notifications(), 30), (tmp_path / "daemon.log").read_text()
    assert wait_until(lambda: "WATCHDOG=1" in daemon.notifications(), 10)
    assert wait_until(lambda: cli_json(daemon, "status")[0] == 0, 30), cli_json(daemon, "status")
    _, report = cli_json(daemon, "status")
    assert report["healthy"] is True and report["mqtt"]["connected"] is True  # type: ignore[index]
    switched = CliRunner().invoke(cli, ["maintenance", "on", "--socket", str(daemon.control)])
    assert switched.exit_code == 0 and switched.output == "maintenance mode ON\n"
    assert cli_json(daemon, "status")[1]["maintenance"] is True
    pings = daemon.pings()
    assert wait_until(lambda: daemon.pings() > pings, 5)  # still fed while healthy
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(30) == 0
    assert "STOPPING=1" in daemon.notifications()
    assert not daemon.control.exists()  # the socket goes with the daemon
    log = (tmp_path / "daemon.log").read_text()
    assert "control socket" in log and "maintenance mode ON (control socket)" in log


def reload_answer(daemon: Daemon) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["reload", "--json", "--socket", str(daemon.control)])
    return result.exit_code, json.loads(result.output)


def test_reload_refuses_a_bad_config_names_restart_settings_and_applies_the_planogram(
        daemon: Daemon, tmp_path: Path) -> None:
    assert wait_until(lambda: "READY=1" in daemon.notifications(), 30), daemon.log.read_text()
    assert wait_until(lambda: cli_json(daemon, "status")[0] == 0, 30)
    good = daemon.config.read_text()

    daemon.config.write_text(good.replace("channels = 8", 'channels = "eight"'))
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in daemon.log.read_text(), 10)
    assert "serial.channels" in daemon.log.read_text() and daemon.process.poll() is None
    code, refused = reload_answer(daemon)
    assert code == 2 and refused["accepted"] is False
    assert any("serial.channels" in p for p in refused["problems"])  # type: ignore[attr-defined]
    code, status = cli_json(daemon, "status")
    assert code == 0  # still running, on the old config
    node = status["parts"]["node"]  # type: ignore[index]
    assert (node["reloads"], node["reloads_refused"]) == (2, 2)  # the SIGHUP and the CLI's, both told

    planogram = tmp_path / "planogram.json"
    planogram.write_text(json.dumps(planogram_document(daemon.scenario, version=3)))
    daemon.config.write_text(good.replace("stats_interval_s = 10", "stats_interval_s = 30")
                             + f'\n[fusion]\nplanogram = "{planogram}"\n')
    code, accepted = reload_answer(daemon)
    assert code == 0 and accepted["accepted"] is True
    assert accepted["needs_restart"] == ["mqtt.stats_interval_s"]  # fusion.planogram is applied live
    assert accepted["applied"] == [f"planogram {daemon.scenario.planogram_id} v3 from {planogram}"]
    assert "mqtt.stats_interval_s changed; these settings need a restart" in daemon.log.read_text()
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: daemon.log.read_text().count("reload: applied planogram") == 2, 10)
    assert "RELOADING=1" in daemon.notifications()
    node = cli_json(daemon, "status")[1]["parts"]["node"]  # type: ignore[index]
    assert (node["reloads"], node["reloads_refused"]) == (4, 2)
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(30) == 0
