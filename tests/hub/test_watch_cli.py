"""`shelf-node hub watch` as hub developers run it, against a real mosquitto and a real node link."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from edge.demo.publisher import weight_body
from tests.mqtt.live import live_node, send
from tests.plugins.broker import Broker

REPO = Path(__file__).resolve().parents[2]


def test_hub_watch_validates_and_writes_json_lines(tmp_path: Path, broker: Broker) -> None:
    out = tmp_path / "events.jsonl"
    watch = subprocess.Popen(
        [sys.executable, "-m", "edge", "hub", "watch", "--port", str(broker.port), "--count", "5", "--json",
         "--out", str(out), "--duration", "30", "--client-id", "cli-hub"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let it subscribe (its session is new, so nothing is queued for it before)
    with live_node(tmp_path, broker.port) as node:
        for i in range(5):
            node.outbox.append("weight", weight_body(i, ["p1"]), time.time())
        stdout, stderr = watch.communicate(timeout=40)
    assert watch.returncode == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["unique_events"] == 5 and summary["nodes"][0]["missing_count"] == 0
    events = [r for r in lines[:-1] if r["type"] == "event"]
    assert [r["payload"]["seq"] for r in events] == [1, 2, 3, 4, 5] and all(r["valid"] for r in events)
    assert len(out.read_text().splitlines()) == len(lines) - 1


def test_hub_watch_exits_1_on_contract_violations(tmp_path: Path, broker: Broker) -> None:
    watch = subprocess.Popen(
        [sys.executable, "-m", "edge", "hub", "watch", "--port", str(broker.port), "--duration", "3",
         "--client-id", "cli-hub-2"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    send(broker.port, "shelf/s1/n1/events", b'{"seq": "one"}')
    stdout, stderr = watch.communicate(timeout=20)
    assert watch.returncode == 1
    assert "INVALID event" in stdout and "contract problem" in stderr
