"""The chain benchmark's parts that need no RabbitMQ: the bridge config a real mosquitto accepts, and the
backlog sizes. The whole chain (a 3-node cluster, several minutes) runs only as `scripts/bench chain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.chain import bridge_conf
from bench.chain_sizes import broker_backlog, outbox_backlog
from edge.demo.broker import LocalBroker, free_port, mosquitto_available
from tests.plugins.waiting import wait_until

needs_mosquitto = pytest.mark.skipif(not mosquitto_available(), reason="needs mosquitto (apt-get install mosquitto)")
EVENT = json.dumps({"schema": {"name": "shelf-node/event", "version": 1}, "event_id": "x" * 36, "seq": 1,
                    "kind": "weight", "body": {"plates": ["p1"], "delta_g": -350.2, "pad": "y" * 600}}).encode()


@needs_mosquitto
def test_mosquitto_accepts_the_bridge_config_and_starts_the_bridge(tmp_path: Path) -> None:
    # a config mosquitto 2.0 refuses (an unknown or misplaced bridge option) fails start() with its message
    broker = LocalBroker(tmp_path, extra_conf=bridge_conf("store1", "secret", [free_port(), free_port()])).start()
    try:
        assert wait_until(lambda: "Connecting bridge (step 1) chain-store1" in broker.log_text())
    finally:
        broker.stop()


@needs_mosquitto
def test_a_store_broker_holds_the_backlog_of_a_down_uplink() -> None:
    size = broker_backlog([EVENT], count=2000)
    assert size.events == 2000 and size.payload_bytes == len(EVENT)
    assert len(EVENT) < size.bytes_per_event_disk < 4 * len(EVENT)  # every event is in the persistence file
    assert size.bytes_per_event_memory is not None and size.bytes_per_event_memory > 0


def test_an_outbox_holds_the_backlog_of_an_unreachable_broker() -> None:
    size = outbox_backlog([("weight", {"plates": ["p1"], "delta_g": -350.2, "pad": "y" * 600})], count=200)
    assert 600 < size.bytes_per_event_disk < 8000
