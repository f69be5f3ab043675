"""FieldServices around a real Node (pty shelf, real mosquitto): the control socket, the LED and button on
gpiozero's mock pins, maintenance mode, and the health verdict, as the daemon will run them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.config.gpio import GpioSection
from edge.control.field import FieldServices, node_source
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.mqtt.host_stats import HostStats
from edge.node import Node
from edge.node.wiring import node_commands
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

pytest.importorskip("gpiozero", reason="needs gpiozero (pip install -e '.[dev]')")
LED, BUTTON = 17, 27
nodes: dict[FieldServices, Node] = {}  # the node each fixture's services belong to


@pytest.fixture
def field(tmp_path: Path, broker: Broker) -> Iterator[FieldServices]:
    _, config = write_node_config(tmp_path, broker_port=broker.port)
    layout = ShelfLayout.from_config(config, seed=5)
    install_factory_calibration(config, layout)
    with PtyShelf(generate_scenario(5, 600.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        node = Node(config)
        node.start()
        gpio = GpioSection(status_led=LED, button=BUTTON, long_press_s=0.5, pin_factory="mock")
        services = FieldServices(node_source(node, HostStats().sample), gpio, tmp_path / "control.sock",
                                 node_commands(config, node.weigher, node.vision), group=None).start()
        nodes[services] = node
        try:
            assert wait_until(lambda: node.counters.frames > 100 and node.link.connected, 20), node.status_line()
            yield services
        finally:
            services.stop()
            node.stop()
            nodes.pop(services, None)


def status(field: FieldServices) -> dict[str, object]:
    assert field.control is not None
    result = CliRunner().invoke(cli, ["status", "--json", "--socket", str(field.control.path)])
    report: dict[str, object] = json.loads(result.output)
    assert result.exit_code == (0 if report["healthy"] else 1)
    return report


def button(field: FieldServices, hold_s: float) -> None:
    assert field.panel.pins is not None
    pin = field.panel.pins.factory.pin(BUTTON)
    pin.drive_low()
    wait_until(lambda: False, timeout=hold_s)
    pin.drive_high()


def test_running_node_status_with_the_led(field: FieldServices) -> None:
    assert wait_until(lambda: field.panel.status().led == "running", 5), field.health()
    report = status(field)
    assert report["healthy"] is True and report["health"] == {"state": "running", "healthy": True, "reasons": []}
    assert report["gpio"]["pins"] == "mock" and report["gpio"]["led"] == "running"  # type: ignore[index]


def test_a_short_press_is_maintenance_on_the_led_and_in_status(field: FieldServices) -> None:
    button(field, 0.1)
    assert wait_until(lambda: field.maintenance.on and field.panel.status().led == "maintenance", 5)
    assert status(field)["maintenance"] is True
    button(field, 0.1)
    assert wait_until(lambda: not field.maintenance.on, 5)


def test_broker_gone_is_degraded_and_the_led_says_offline(field: FieldServices, broker: Broker) -> None:
    broker.stop()
    assert wait_until(lambda: field.panel.status().led == "mqtt_offline", 10)
    report = status(field)
    assert report["healthy"] is False and report["health"]["state"] == "degraded"  # type: ignore[index]
    assert report["health"]["reasons"][0].startswith("mqtt offline")  # type: ignore[index]


def test_a_dead_worker_is_a_fault_on_the_led(field: FieldServices) -> None:
    node = nodes[field]
    assert field.source.failed() is None
    node.reader.stop()  # the reader thread ends as if it had died
    assert wait_until(lambda: field.panel.status().led == "fault", 10)
    assert status(field)["health"]["state"] == "fault"  # type: ignore[index]


def test_a_socket_in_the_way_is_an_error_not_a_crash(tmp_path: Path, field: FieldServices,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A second set of services on the same socket (as a second daemon would be) logs and runs without it."""
    assert field.control is not None
    other = FieldServices(field.source, None, field.control.path, group=None)
    other.start()
    try:
        assert other.control is None and "runs without its control socket" in caplog.text
        assert status(field)["node"] == field.source.node  # the first one still answers
    finally:
        other.stop()


def test_a_stream_that_stalls_with_the_port_open_stops_the_watchdog(tmp_path: Path, broker: Broker) -> None:
    """The board hangs (the pty stays open, no line comes): not a lost port the reader would reopen, so only the
    health verdict can see it; `unrecoverable()` (which node.healthy() reads) then names it, which stops the
    systemd watchdog. (The node's own services use the 60 s default; these use 1.5 s.)"""
    _, config = write_node_config(tmp_path, broker_port=broker.port)
    layout = ShelfLayout.from_config(config, seed=7)
    install_factory_calibration(config, layout)
    with PtyShelf(generate_scenario(7, 600.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        node = Node(config)
        node.start()
        services = FieldServices(node_source(node, stall_s=1.5), None, None, group=None).start()
        try:
            assert wait_until(lambda: node.counters.frames > 100 and node.healthy(), 20), node.status_line()
            assert services.unrecoverable() is None
            shelf.request_stop()  # the playing thread ends; the pty stays open
            assert wait_until(lambda: services.unrecoverable() is not None, 10)
            assert "no weight frame for" in str(services.unrecoverable())
            assert services.health().state == "fault"
            assert wait_until(lambda: services.condition().fault is not None, 2)  # the LED's view, cached 0.25 s
        finally:
            services.stop()
            node.stop(settle_s=0)


def test_status_names_the_planogram_the_node_runs_on(field: FieldServices, tmp_path: Path) -> None:
    from edge.planogram import load_planogram_file
    from edge.sim.planogram_doc import planogram_document

    node = nodes[field]
    assert status(field)["planogram"] is None  # none yet: no [fusion] planogram, none from the hub
    scenario = generate_scenario(5, 600.0, ShelfLayout.from_config(node.config, seed=5))
    (tmp_path / "planogram.json").write_text(json.dumps(planogram_document(scenario, version=3)))
    node.items.on_planogram(load_planogram_file(tmp_path / "planogram.json", node.config.plate_names()))
    assert status(field)["planogram"] == {"id": scenario.planogram_id, "version": 3}


def test_fusion_faults_degrade_the_node_and_never_stop_the_watchdog(field: FieldServices, tmp_path: Path) -> None:
    from edge.planogram import load_planogram_file
    from edge.sim.planogram_doc import planogram_document
    from tests.fusion.helpers import T0, weight_event

    node = nodes[field]
    scenario = generate_scenario(5, 600.0, ShelfLayout.from_config(node.config, seed=5))
    (tmp_path / "planogram.json").write_text(json.dumps(planogram_document(scenario, version=3)))
    node.items.on_planogram(load_planogram_file(tmp_path / "planogram.json", node.config.plate_names()))
    for k in range(6):  # over [health]'s 5 fusion errors a minute
        node.items.weight_event(weight_event({"p1": float("nan")}), None, None, T0 + k)
    assert wait_until(lambda: field.health().state == "degraded", 10), field.health()  # sampled every few s
    report = status(field)
    assert report["health"]["state"] == "degraded", report["health"]  # type: ignore[index]
    assert any(r.startswith("fusion") for r in report["health"]["reasons"])  # type: ignore[index]
    assert node.healthy() and field.unrecoverable() is None and node.failed() is None
