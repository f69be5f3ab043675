"""TLS (mutual), passwords and ACLs on a real mosquitto, with certificates generated per test."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge.demo.publisher import weight_body
from edge.hub.watcher import HubWatcher, hub_section
from tests.mqtt.certs import Pki, make_pki
from tests.mqtt.live import live_node, records
from tests.mqtt.nodecfg import NODE, STORE
from tests.plugins.broker import Broker, write_password_file
from tests.plugins.waiting import wait_until

ROOT = f"shelf/{STORE}/{NODE}"


def secure_broker(tmp_path: Path, factory: Callable[..., Broker], node_acl: list[str]) -> tuple[Broker, Pki]:
    pki = make_pki(tmp_path / "pki")
    passwords = write_password_file(tmp_path / "passwd", {"node": "node-secret", "hub": "hub-secret"})
    acl = tmp_path / "acl"
    acl.write_text("\n".join(["user node", *node_acl, "", "user hub", "topic read shelf/#",
                              "topic write shelf/+/+/cmd/#", "topic write shelf/+/+/planogram", ""]))
    broker = factory(extra_conf=[
        f"cafile {pki.ca}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}",
        "require_certificate true", "allow_anonymous false", f"password_file {passwords}", f"acl_file {acl}",
    ])
    return broker, pki


def secure_settings(tmp_path: Path, pki: Pki, password: str = "node-secret") -> dict[str, Any]:
    secret = tmp_path / "node-password"
    secret.write_text(password + "\n")
    return {"mqtt": {"username": "node", "password": f"file:{secret}", "protocol": "5"},
            "tls": {"ca_file": pki.ca, "cert_file": pki.client_cert, "key_file": pki.client_key}}


def secure_hub(broker: Broker, pki: Pki) -> HubWatcher:
    secret = broker.workdir / "hub-password"
    secret.write_text("hub-secret")
    tls = {"ca_file": pki.ca, "cert_file": pki.client_cert, "key_file": pki.client_key}
    hub = HubWatcher(hub_section(port=broker.port, username="hub", password=f"file:{secret}", tls=tls),
                     client_id="secure-hub")
    hub.start()
    assert hub.subscribed.wait(10), broker.log_text()[-2000:]  # SUBACK: nothing published from now on is missed
    return hub


NODE_ACL = [f"topic readwrite {ROOT}/#"]


def test_mutual_tls_with_password_and_acl_delivers(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker, pki = secure_broker(tmp_path, mosquitto_factory, NODE_ACL)
    hub = secure_hub(broker, pki)
    try:
        with live_node(tmp_path, broker.port, **secure_settings(tmp_path, pki)) as node:
            for i in range(10):
                node.outbox.append("weight", weight_body(i, ["p1", "p2"]), time.time())
            assert hub.wait_for(lambda t: t.unique_events >= 10, timeout=15), node.link.status()
            assert wait_until(lambda: node.outbox.depth == 0, timeout=10)
    finally:
        hub.stop()
    assert [r.payload["seq"] for r in records(hub, "event")] == list(range(1, 11))
    assert all(r.valid for r in hub.records)


def test_wrong_ca_is_refused_with_a_clear_log_line(tmp_path: Path, mosquitto_factory: Callable[..., Broker],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    broker, pki = secure_broker(tmp_path, mosquitto_factory, NODE_ACL)
    settings = secure_settings(tmp_path, pki)
    settings["tls"] = {**settings["tls"], "ca_file": pki.other_ca}
    with caplog.at_level(logging.WARNING, logger="edge.mqtt.link"), live_node(tmp_path, broker.port,
                                                                              **settings) as node:
        node.outbox.append("weight", weight_body(0, ["p1"]), time.time())
        assert wait_until(lambda: node.link.status().connect_failures >= 2, timeout=10)
        assert not node.link.connected and node.outbox.depth == 1  # kept for later, not lost
    assert "certificate not trusted" in caplog.text and "[mqtt.tls] ca_file" in caplog.text


def test_wrong_password_is_refused_and_counted(tmp_path: Path, mosquitto_factory: Callable[..., Broker],
                                               caplog: pytest.LogCaptureFixture) -> None:
    broker, pki = secure_broker(tmp_path, mosquitto_factory, NODE_ACL)
    with caplog.at_level(logging.ERROR, logger="edge.mqtt.link"), live_node(
            tmp_path, broker.port, **secure_settings(tmp_path, pki, password="wrong")) as node:
        assert wait_until(lambda: node.link.status().connect_failures >= 2, timeout=10)
        assert not node.link.connected
    assert "refused the connection" in caplog.text and "username/password" in caplog.text


def test_acl_refusal_is_not_counted_as_delivered(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    """MQTT 5: mosquitto answers an ACL-denied publish with PUBACK 0x87 (not authorized), and
    mosquitto 2.0 then also closes the connection; depending on which the node sees first the event
    is kept as `rejected` (counted, exportable) or stays pending and is retried with backoff.
    Either way it is never counted as delivered and never leaves the outbox."""
    acl = [f"topic write {ROOT}/{leaf}" for leaf in ("status", "birth", "stats", "weights")]
    acl += [f"topic write {ROOT}/resp/#", f"topic read {ROOT}/cmd/#", f"topic read {ROOT}/planogram"]
    broker, pki = secure_broker(tmp_path, mosquitto_factory, acl)
    hub = secure_hub(broker, pki)
    try:
        with live_node(tmp_path, broker.port, **secure_settings(tmp_path, pki)) as node:
            for i in range(3):
                node.outbox.append("weight", weight_body(i, ["p1"]), time.time())
            assert wait_until(lambda: node.link.status().rejected >= 1 or node.link.status().reconnects >= 2,
                              timeout=15), node.link.status()
            time.sleep(0.5)
            health, status = node.link.status(), node.outbox.status()
    finally:
        hub.stop()
    assert health.acked == 0 and records(hub, "event") == []
    assert status.depth + status.rejected_kept == 3  # all three still in the outbox
    assert status.rejected == status.rejected_kept == health.rejected
    if status.rejected:
        assert "Not authorized" in status.last_error
    exported = list(_rows(tmp_path))
    assert [row.seq for row in exported] == [1, 2, 3]


def _rows(tmp_path: Path) -> list[Any]:
    from edge.outbox import Outbox

    box = Outbox(tmp_path / "state" / "outbox.sqlite3")
    try:
        return list(box.iter_rows())
    finally:
        box.close()
