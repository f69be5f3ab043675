"""Issue 11, nothing lost at stop, on the MQTT side: events handed to paho but not acknowledged when the link
stops cleanly stay in the outbox and go out, with the same event_id, after the restart. The broker is a real
mosquitto frozen with SIGSTOP: it takes the bytes and acknowledges nothing, like a broker behind a dead link.
A command being handled when the link stops is answered before `stopped`; one arriving then is answered `busy`."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.demo.publisher import weight_body
from edge.mqtt.commands import CommandRegistry
from edge.mqtt.inbound import Inbound
from edge.outbox import open_outbox
from edge.planogram import PlanogramStore
from tests.mqtt.live import ROOT, hub_watcher, live_node, records, send
from tests.mqtt.nodecfg import node_config
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

PLATES = ["p1", "p2"]


def test_a_clean_stop_keeps_the_events_in_flight_and_they_go_out_after_the_restart(tmp_path: Path,
                                                                                     broker: Broker) -> None:
    assert broker.proc is not None
    with hub_watcher(broker.port, client_id="hub-stop-inflight") as hub:
        with live_node(tmp_path, broker.port, mqtt={"stop_timeout_s": 1.0}) as node:
            ids = [node.outbox.append("weight", weight_body(0, PLATES), time.time()).event_id]
            assert hub.wait_for(lambda t: t.unique_events >= 1, timeout=10), hub.tracker.summary()
            assert wait_until(lambda: node.outbox.depth == 0, timeout=5)
            os.kill(broker.proc.pid, signal.SIGSTOP)
            try:
                ids += [node.outbox.append("weight", weight_body(i, PLATES), time.time()).event_id
                        for i in range(1, 11)]
                assert wait_until(lambda: node.link.delivery.inflight == 10, timeout=5), node.link.status()
            except BaseException:
                os.kill(broker.proc.pid, signal.SIGCONT)
                raise
            # leaving the block stops the link cleanly ('stopped' is not acknowledged either) and closes the outbox
        try:
            outbox = open_outbox(node_config(tmp_path, broker.port))
            try:
                assert outbox.depth == 10  # nothing acknowledged, nothing deleted
                assert [row.event_id for row in outbox.pending_after(0, 20)] == ids[1:]
            finally:
                outbox.close()
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)
        with live_node(tmp_path, broker.port) as node:
            assert hub.wait_for(lambda t: t.unique_events >= 11, timeout=15), hub.tracker.summary()
            assert wait_until(lambda: node.outbox.depth == 0, timeout=10)
    by_seq: dict[int, set[str]] = {}
    for record in records(hub, "event"):
        by_seq.setdefault(record.payload["seq"], set()).add(record.payload["event_id"])
    assert sorted(by_seq) == list(range(1, 12))
    assert [by_seq[seq] for seq in range(1, 12)] == [{event_id} for event_id in ids]  # a re-send is the same event


def subscribed(broker: Broker, topic_filter: str) -> bool:
    """The broker has a subscription to `topic_filter` (mosquitto logs `<client id> <qos> <filter>` on SUBSCRIBE)."""
    return any(line.split()[3:] == [topic_filter] for line in broker.log_text().splitlines())


def test_a_command_being_handled_at_the_stop_is_answered_before_stopped(
        tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker = mosquitto_factory(["log_type subscribe"])
    commands = CommandRegistry(allow_state_commands=True, max_bytes=16384)
    started = threading.Event()

    def slow_tare(params: dict[str, Any]) -> dict[str, Any]:  # a tare waiting for a stable plate
        started.set()
        time.sleep(0.5)  # pacing of the fake command, not a wait: the tare is still running when the link stops
        return {"tared": {"p1": 0.0}}

    commands.register("tare", slow_tare, changes_state=True)
    with hub_watcher(broker.port, client_id="hub-stop-cmd") as hub:
        with live_node(tmp_path, broker.port, commands=commands) as node:
            assert wait_until(lambda: node.link.connected, timeout=10)
            assert wait_until(lambda: subscribed(broker, f"{ROOT}/cmd/+"), timeout=10), broker.log_text()
            send(broker.port, f"{ROOT}/cmd/tare", json.dumps({"transaction": "t-stop"}))
            assert started.wait(5)
            # leaving the block stops the link while the tare runs: it did change state, so the hub must hear
        assert wait_until(lambda: any(r.payload["state"] == "stopped" for r in records(hub, "status")), timeout=10)
        assert wait_until(lambda: records(hub, "resp"), timeout=5)  # a resp after 'stopped' fails the order below
    kinds = [(r.type, r.payload.get("transaction") or r.payload.get("state")) for r in hub.records
             if r.type in ("resp", "status")]
    assert ("resp", "t-stop") in kinds, kinds
    assert kinds.index(("resp", "t-stop")) < kinds.index(("status", "stopped")), kinds
    (answer,) = [r.payload for r in records(hub, "resp")]
    assert answer["ok"] and answer["result"] == {"tared": {"p1": 0.0}}


def test_a_command_arriving_while_the_link_stops_is_answered_busy(tmp_path: Path) -> None:
    answers: list[tuple[str, dict[str, Any]]] = []
    commands = CommandRegistry(allow_state_commands=True, max_bytes=16384)
    commands.register("tare", lambda params: {"tared": {}}, changes_state=True)
    inbound = Inbound(commands, PlanogramStore(tmp_path, ["p1"]), lambda planogram: None,
                      lambda name, response: answers.append((name, response)))
    inbound.start()
    inbound.stop()
    inbound.submit("tare", json.dumps({"transaction": "late"}).encode())
    ((name, response),) = answers
    assert name == "tare" and response["transaction"] == "late" and not response["ok"]
    assert response["error"]["code"] == "busy" and "stopping" in response["error"]["message"]
