"""Issue 11 #14: a second node with the same client_id, against the real mosquitto; and a clean stop.

The connection that is taken over says so (MQTT 5 reason 142) in words, without the ACL hint,
backs off instead of taking the connection back within a second, and keeps its session number.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from edge.mqtt import takeover as takeover_module
from tests.mqtt.live import live_node
from tests.mqtt.nodecfg import NODE, STORE
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until

CLIENT_ID = f"shelf-{STORE}-{NODE}"


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_second_node_with_the_same_client_id_is_named_and_backed_off(
        tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        protocol: str) -> None:
    monkeypatch.setattr(takeover_module, "TAKEOVER_BACKOFF_S", (1.5, 3.0))  # the real one is 30..300 s
    caplog.set_level(logging.INFO, logger="edge.mqtt.link")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mqtt = {"protocol": protocol}
    with live_node(tmp_path / "a", broker.port, mqtt=mqtt) as first, \
            live_node(tmp_path / "b", broker.port, mqtt=mqtt) as second:
        nodes = [first, second]
        assert wait_until(lambda: any(n.link.status().takeovers for n in nodes), timeout=10), [
            n.link.status() for n in nodes]
        noticed_at = time.monotonic()
        (backing_off,) = [n for n in nodes if n.link.status().takeovers][:1]
        before = backing_off.link.status()
        assert not before.connected
        # it takes the connection back only after its backoff, twice, each time with the same session number
        assert wait_until(lambda: backing_off.link.status().reconnects >= before.reconnects + 1, timeout=10)
        assert time.monotonic() - noticed_at >= 1.4, "reconnected at once: no backoff after the takeover"
        assert wait_until(lambda: backing_off.link.status().reconnects >= before.reconnects + 2, timeout=15)
        assert backing_off.link.status().session == before.session
        assert backing_off.outbox.status().session == before.session  # no session number burned per flap
    takeover = [r for r in caplog.records if "took over" in r.getMessage()]
    assert takeover and takeover[0].levelno == logging.ERROR
    assert (f"another client with client_id {CLIENT_ID} took over; is a second node configured as "
            f"{STORE}/{NODE}?") in takeover[0].getMessage()
    assert not [r for r in caplog.records if "ACL" in r.getMessage()]


def test_a_clean_stop_disconnect_is_info_without_hints(tmp_path: Path, broker: Broker,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge.mqtt.link")
    with live_node(tmp_path, broker.port) as node:
        assert wait_until(lambda: node.link.connected, timeout=10)
    stopping = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert stopping and all(r.levelno == logging.INFO for r in stopping), [r.getMessage() for r in stopping]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "edge.mqtt.link"]


def test_takeover_evidence_without_a_broker() -> None:
    watch = takeover_module.TakeoverWatch()
    watch.connected(0.0)
    assert watch.closed(142, "Session taken over", inflight=0, now=100.0) == "MQTT 5 reason 142 'Session taken over'"
    refused = takeover_module.TakeoverWatch()
    for attempt in range(5):  # mosquitto closing after an ACL-refused event: that event is in flight
        refused.connected(float(attempt))
        assert refused.closed(128, "Unspecified error", inflight=1, now=attempt + 0.2) is None
    quiet = takeover_module.TakeoverWatch()
    found = []
    for attempt in range(3):
        quiet.connected(float(attempt))
        found.append(quiet.closed(128, "Unspecified error", inflight=0, now=attempt + 0.2))
    assert found[:2] == [None, None] and "3 times in a row" in str(found[2]) and quiet.taken_over
