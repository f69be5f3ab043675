"""A NaN that a part puts into stats or a command result must not cost the connection or the response."""

from __future__ import annotations

import json
import math
from pathlib import Path

from edge.mqtt import envelope
from edge.mqtt.commands import CommandRegistry
from tests.mqtt.live import ROOT, hub_watcher, live_node, records, send
from tests.plugins.broker import Broker
from tests.plugins.waiting import wait_until


def test_encode_sends_non_finite_numbers_as_null() -> None:
    payload = {"a": math.nan, "b": [1.0, math.inf], "c": {"d": -math.inf, "e": 2}}
    assert json.loads(envelope.encode(payload)) == {"a": None, "b": [1.0, None], "c": {"d": None, "e": 2}}


def test_a_nan_in_a_command_result_still_gets_its_response(tmp_path: Path, broker: Broker) -> None:
    commands = CommandRegistry()
    commands.register("noise", lambda params: {"sigma_g": math.nan}, changes_state=False)
    with hub_watcher(broker.port) as hub, live_node(tmp_path, broker.port, commands=commands,
                                                   mqtt={"weights_enabled": True}) as node:
        assert wait_until(lambda: node.link.connected, timeout=10)
        send(broker.port, f"{ROOT}/cmd/noise", json.dumps({"transaction": "n-1"}))
        assert wait_until(lambda: records(hub, "resp"), timeout=10)
        (response,) = records(hub, "resp")
        assert response.valid and response.payload["result"] == {"sigma_g": None}
        node.link.publish_weights({"p1": math.inf, "p2": 12.34})
        assert wait_until(lambda: records(hub, "weights"), timeout=10)
        assert records(hub, "weights")[0].payload["plates"] == {"p1": None, "p2": 12.3}
        assert node.link.status().reconnects == 0 and node.link.status().internal_errors == 0
