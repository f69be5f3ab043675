"""Issue 14 "health ... published in status and stats" with issue 11 #1 ("Health turns degraded"): events held in
memory on a full disk make the node `degraded` with the outbox's own reason, which the hub sees in the retained
status and in stats, the LED shows, and `shelf-node status` prints; when space frees, healthy again. A real 2 MB
tmpfs, real SQLite, a real pty shelf, a real mosquitto and the hub's own tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import write_node_config
from edge.hub.tracker import HubTracker
from tests.mqtt.live import hub_watcher
from tests.node.shelves import node_on_quiet_shelf
from tests.plugins.broker import Broker
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def _health(tracker: HubTracker) -> dict[str, Any]:
    nodes = list(tracker.nodes.values())
    return (nodes[0].health or {}) if nodes else {}


def test_a_full_disk_degrades_the_node_at_the_hub_on_the_led_and_in_status(tmp_path: Path, small_disk: Path,
                                                                          broker: Broker) -> None:
    _, config = write_node_config(tmp_path, broker_port=broker.port)
    config = config.model_copy(update={
        "node": config.node.model_copy(update={"state_dir": small_disk / "state"}),
        "mqtt": config.mqtt.model_copy(update={"stats_interval_s": 1.0})})
    socket = tmp_path / "control.sock"
    with hub_watcher(broker.port) as hub, node_on_quiet_shelf(config, tmp_path, 4, socket) as (node, shelf):
        try:
            assert hub.wait_for(lambda t: _health(t).get("state") == "running", 15), hub.tracker.summary()
            ballast = fill(small_disk)
            shelf.pick("p2")
            assert wait_until(lambda: node.outbox.status().held == 1, 20), node.outbox.status()

            assert hub.wait_for(lambda t: _health(t).get("state") == "degraded", 10), hub.tracker.summary()
            reasons = " ".join(_health(hub.tracker)["reasons"])
            assert "1 event(s) held in memory" in reasons and "disk is full" in reasons, reasons
            assert _health(hub.tracker)["healthy"] is False
            assert hub.wait_for(lambda t: any(r.type == "stats" and (r.payload.get("health") or {}).get("state")
                                              == "degraded" for r in hub.records), 5)  # stats carry it too
            assert hub.tracker.violations() == 0, hub.tracker.summary()  # status and stats with health validate
            assert wait_until(lambda: node.field.panel.status().led == "degraded", 5)
            shown = CliRunner().invoke(cli, ["status", "--socket", str(socket)])
            assert shown.exit_code == 1, shown.output
            assert "DEGRADED" in shown.output and "held in memory" in shown.output, shown.output

            ballast.unlink()
            assert hub.wait_for(lambda t: _health(t).get("state") == "running", 15), hub.tracker.summary()
            assert _health(hub.tracker)["reasons"] == []
            assert wait_until(lambda: node.field.panel.status().led == "running", 5)
            assert CliRunner().invoke(cli, ["status", "--socket", str(socket)]).exit_code == 0
        finally:
            node.stop()
