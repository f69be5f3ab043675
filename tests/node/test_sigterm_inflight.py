"""Issue 14 Tests: "SIGTERM with events in flight loses nothing", for the daemon as a subprocess. The broker is
frozen (SIGSTOP: the connection stays up, no PUBACK comes), so the event of a pick is published and unacknowledged
when `shelf-node run` gets SIGTERM; it exits 0 within systemd's stop timeout, the event stays in its outbox, and
after the restart the hub has it, with the same event_id and seq, and no gap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.outbox import open_outbox
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.mqtt.live import hub_watcher
from tests.node.shelves import quiet_scenario, stop_everything
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


def status(control: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["status", "--json", "--socket", str(control)])
    return json.loads(result.output) if result.output.startswith("{") else {}


def test_sigterm_with_an_event_in_flight_loses_nothing(tmp_path: Path, broker: Broker) -> None:
    assert broker.proc is not None
    config_path, config = write_node_config(tmp_path, broker.port)
    config_path.write_text(config_path.read_text().replace("[mqtt]\n", "[mqtt]\nstop_timeout_s = 1.0\n", 1))
    layout = ShelfLayout.from_config(config, seed=8)
    install_factory_calibration(config, layout)
    control = tmp_path / "control.sock"
    daemons: list[subprocess.Popen[bytes]] = []

    def start_daemon() -> subprocess.Popen[bytes]:
        with (tmp_path / f"node{len(daemons)}.log").open("wb") as log:
            daemons.append(subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                             "--socket", str(control)], stdout=log, stderr=subprocess.STDOUT))
        return daemons[-1]

    with hub_watcher(broker.port, client_id="hub-sigterm-inflight") as hub, \
            PtyShelf(quiet_scenario(8, layout), layout, sps=80, link_path=tmp_path / "shelf-tty") as shelf:
        try:
            first = start_daemon()
            assert wait_until(lambda: status(control).get("healthy") is True, 30), (tmp_path / "node0.log").read_text()
            assert wait_until(lambda: status(control)["parts"]["weighing"]["shelf_stable"], 10)
            os.kill(broker.proc.pid, signal.SIGSTOP)
            try:
                shelf.pick("p2")
                assert wait_until(lambda: status(control)["mqtt"]["inflight"] == 1, 15), status(control)["mqtt"]
                first.send_signal(signal.SIGTERM)
                assert first.wait(20) == 0, (tmp_path / "node0.log").read_text()
            finally:
                os.kill(broker.proc.pid, signal.SIGCONT)
            outbox = open_outbox(config)
            try:
                (row,) = outbox.pending_after(0, 10)  # not acknowledged, so not deleted
            finally:
                outbox.close()
            assert row.body["plates"] == ["p2"], row.body

            second = start_daemon()
            assert hub.wait_for(lambda t: t.unique_events >= 1, 30), hub.tracker.summary()
            assert wait_until(lambda: status(control).get("outbox", {}).get("depth") == 0, 10)
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0
            events = [r for r in hub.records if r.type == "event"]
            assert {r.payload["event_id"] for r in events} == {row.event_id}  # a re-send is the same event
            assert {r.payload["seq"] for r in events} == {row.seq}
            (node,) = hub.tracker.nodes.values()
            assert node.invalid == 0 and node.missing == set(), node.summary()
        finally:
            stop_everything(daemons)
