"""The technician commands against a running node: a real Node on the simulated shelf (pty), a real
mosquitto, and the control socket served by ControlServer with the node's handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edge import __version__
from edge.cli import cli
from edge.control import ControlServer
from edge.control.node_handlers import NodeParts, node_handlers
from edge.control.report import Health, RecentEvents
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.gpio.maintenance import MaintenanceMode
from edge.mqtt.host_stats import HostStats
from edge.node import Node
from edge.node.wiring import node_commands
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


@dataclass
class Daemon:
    node: Node
    socket: Path
    recent: RecentEvents
    maintenance: MaintenanceMode


def health_of(node: Node) -> Health:
    return Health("running") if node.healthy() and node.link.connected else Health("degraded", ("mqtt offline",))


@pytest.fixture
def daemon(tmp_path: Path, broker: Broker) -> Iterator[Daemon]:
    _, config = write_node_config(tmp_path, broker_port=broker.port)
    layout = ShelfLayout.from_config(config, seed=3)
    install_factory_calibration(config, layout)
    recent, maintenance = RecentEvents(), MaintenanceMode()
    with PtyShelf(generate_scenario(3, 600.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        node = Node(config)
        node.start()
        parts = NodeParts(node=f"{config.node.store_id}/{config.node.node_id}", version=__version__,
                          parts=node.status, health=lambda: health_of(node), mqtt=node.link.status,
                          outbox=node.outbox.status, host=HostStats().sample, maintenance=maintenance, recent=recent)
        server = ControlServer(tmp_path / "control.sock", node_handlers(
            parts, node_commands(config, node.weigher, node.vision)), group=None).start()
        try:
            assert wait_until(lambda: node.counters.frames > 200 and node.link.connected, 20), node.status_line()
            yield Daemon(node, server.path, recent, maintenance)
        finally:
            server.stop()
            node.stop()


def run(daemon: Daemon, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--socket", str(daemon.socket)])


def test_status_shows_everything_and_exits_0_when_healthy(daemon: Daemon) -> None:
    result = run(daemon, "status")
    assert result.exit_code == 0, result.output
    for plate in daemon.node.config.plate_names():
        assert f"\n{plate} " in result.output
    assert "state: RUNNING" in result.output and "mqtt    connected" in result.output
    assert "serial  connected" in result.output and "camera  not configured" in result.output
    report = json.loads(run(daemon, "status", "--json").output)
    config = daemon.node.config
    assert report["healthy"] is True and report["node"] == f"{config.node.store_id}/{config.node.node_id}"
    assert report["parts"]["serial"]["frames_ok"] > 200 and report["outbox"]["depth"] >= 0
    assert report["mqtt"]["connected"] is True and report["maintenance"] is False


def test_status_exits_1_when_not_healthy(daemon: Daemon, broker: Broker) -> None:
    broker.stop()
    assert wait_until(lambda: not daemon.node.link.connected, 10)
    result = run(daemon, "status")
    assert result.exit_code == 1 and "state: DEGRADED (mqtt offline)" in result.output
    assert "mqtt    OFFLINE" in result.output


def test_weights_reads_every_plate(daemon: Daemon) -> None:
    answer = json.loads(run(daemon, "weights", "--json").output)
    assert set(answer["plates"]) == set(daemon.node.config.plate_names())
    watched = run(daemon, "weights", "--watch", "--count", "3", "--interval", "0.1")
    assert watched.exit_code == 0 and watched.output.count("shelf: ") == 3


def test_tare_goes_through_the_daemon_and_an_unknown_plate_is_named(daemon: Daemon) -> None:
    plate = daemon.node.config.plate_names()[0]
    assert wait_until(lambda: daemon.node.weigher.shelf_stable(), 30)
    result = run(daemon, "tare", plate)
    if result.exit_code == 0:
        assert f"{plate}: zeroed" in result.output
        grams = daemon.node.weigher.status().plates[plate].grams
        assert grams is not None and abs(grams) < 5.0
    else:  # a shopper of the simulation touched the shelf in between: refused, said so
        assert result.exit_code == 1 and "stable" in result.output, result.output
    unknown = run(daemon, "tare", "no-such-plate")
    assert unknown.exit_code == 1 and "params.plate must be one of" in unknown.output


def test_calibrate_with_nothing_on_the_plate_refuses_before_saving(daemon: Daemon) -> None:
    plate = daemon.node.config.plate_names()[0]
    before = daemon.node.weigher.status().calibrated_plates
    result = run(daemon, "calibrate", plate, "--known-g", "500", "--yes", "--timeout", "30")
    assert result.exit_code == 1
    assert "with the 500 g weight on it: is the weight on" in result.output or "did not settle" in result.output, \
        result.output
    assert "Save this calibration" not in result.output
    assert daemon.node.weigher.status().calibrated_plates == before


def test_maintenance_switch_and_events_tail(daemon: Daemon) -> None:
    assert "maintenance mode ON" in run(daemon, "maintenance", "on").output
    assert daemon.maintenance.on is True
    assert json.loads(run(daemon, "status", "--json").output)["maintenance"] is True
    daemon.recent.add("weight", {"plates": ["p1"], "delta_g": -355.2, "quality": "clean", "flags": []}, seq=7)
    daemon.recent.add("item", {"action": "pick", "lines": [{"sku": "cola-05", "count": 1}], "confidence": 0.97,
                               "review": {"required": True, "reasons": ["twin"]}, "plates": ["p1"]}, seq=8)
    tail = run(daemon, "events", "tail", "-n", "5")
    assert tail.exit_code == 0 and "-355.20" in tail.output and "pick 1x cola-05 (97%)" in tail.output
    assert "twin" in tail.output
    lines = run(daemon, "events", "tail", "-n", "1", "--json").output.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [8]


def test_every_daemon_command_says_when_the_daemon_is_not_running(tmp_path: Path) -> None:
    for args in (["status"], ["weights"], ["tare"], ["events", "tail"], ["maintenance"]):
        result = CliRunner().invoke(cli, [*args, "--socket", str(tmp_path / "none.sock")])
        assert result.exit_code == 3 and "the daemon is not running" in result.output, args


def test_selftest_through_the_running_daemon(daemon: Daemon, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["selftest", "--config", str(tmp_path / "node.toml"), "--socket",
                                      str(daemon.socket), "--json", "--serial-seconds", "1"])
    report = json.loads(result.output)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["mode"].startswith("daemon running")
    serial = checks["serial port"]
    assert serial["result"] == "pass" and "held by the daemon, connected" in serial["detail"]
    assert checks["frames"]["result"] == "pass" and checks["broker"]["result"] == "pass"
    assert result.exit_code == (0 if report["ok"] else 1)


def test_support_bundle_from_the_running_daemon(daemon: Daemon, tmp_path: Path) -> None:
    import tarfile

    out = tmp_path / "bundle.tar.gz"
    result = CliRunner().invoke(cli, ["support-bundle", str(out), "--config", str(tmp_path / "node.toml"),
                                      "--socket", str(daemon.socket), "--no-journal", "--logs-dir",
                                      str(tmp_path / "no-logs")])
    assert result.exit_code == 0, result.output
    with tarfile.open(out) as archive:
        names = {m.name.split("/", 1)[1] for m in archive.getmembers()}
        status_member = next(m for m in archive.getmembers() if m.name.endswith("daemon/status.json"))
        report = json.loads(archive.extractfile(status_member).read())  # type: ignore[union-attr]
    assert {"daemon/status.json", "daemon/commands.json", "daemon/weights.json", "config/config.toml"} <= names
    assert report["parts"]["serial"]["frames_ok"] > 0
    assert "daemon/snapshot.jpg" not in names  # no [camera]: listed as missing instead


def test_events_tail_follow_prints_each_new_event_once(daemon: Daemon) -> None:
    import os
    import signal
    import subprocess
    import sys

    daemon.recent.add("weight", {"plates": ["p1"], "delta_g": -10.0, "quality": "clean", "flags": []}, seq=1)
    follower = subprocess.Popen([sys.executable, "-m", "edge", "events", "tail", "-n", "1", "--follow", "--json",
                                 "--interval", "0.1", "--socket", str(daemon.socket)], stdout=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        assert follower.stdout is not None
        assert json.loads(follower.stdout.readline())["seq"] == 1
        for seq in (2, 3):
            daemon.recent.add("weight", {"plates": ["p2"], "delta_g": -20.0, "quality": "clean", "flags": []},
                              seq=seq)
            assert json.loads(follower.stdout.readline())["seq"] == seq
        follower.send_signal(signal.SIGINT)  # Ctrl-C ends it quietly
        rest, _ = follower.communicate(timeout=10)
        assert follower.returncode == 0 and all(json.loads(line)["seq"] > 3 for line in rest.splitlines())
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
