"""`shelf-node hub watch` as hub developers run it, against a real mosquitto and a real node link."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from edge.demo.publisher import weight_body
from tests.mqtt.live import live_node, send
from tests.mqtt.nodecfg import write_config
from tests.plugins.broker import Broker
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def subscribed(broker: Broker, client_id: str) -> bool:
    """The broker has the watcher's subscription (mosquitto logs `<client id> <qos> <filter>` on SUBSCRIBE)."""
    return any(line.split()[1:3] == [client_id, "1"] for line in broker.log_text().splitlines() if line.strip())


def test_hub_watch_validates_and_writes_json_lines(tmp_path: Path,
                                                    mosquitto_factory: Callable[..., Broker]) -> None:
    broker = mosquitto_factory(["log_type subscribe"])
    out = tmp_path / "events.jsonl"
    watch = subprocess.Popen(
        [sys.executable, "-m", "edge", "hub", "watch", "--port", str(broker.port), "--count", "5", "--json",
         "--out", str(out), "--duration", "30", "--client-id", "cli-hub"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: subscribed(broker, "cli-hub"), 10), broker.log_text()  # new session: no queue before
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


def test_hub_watch_exits_1_on_contract_violations(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker = mosquitto_factory(["log_type subscribe"])
    watch = subprocess.Popen(
        [sys.executable, "-m", "edge", "hub", "watch", "--port", str(broker.port), "--duration", "3",
         "--client-id", "cli-hub-2"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: subscribed(broker, "cli-hub-2"), 10), broker.log_text()
    send(broker.port, "shelf/s1/n1/events", b'{"seq": "one"}')
    stdout, stderr = watch.communicate(timeout=20)
    assert watch.returncode == 1
    assert "INVALID event" in stdout and "contract problem" in stderr


def test_hub_watch_takes_the_broker_from_a_node_config_with_options_overriding(tmp_path: Path,
                                                                              broker: Broker) -> None:
    config = write_config(tmp_path, 1, name="elsewhere.toml")  # port 1: only the --port override can work
    with live_node(tmp_path, broker.port) as node:
        assert wait_until(lambda: node.link.connected, timeout=10)
        watch = subprocess.run(
            [sys.executable, "-m", "edge", "hub", "watch", "--config", str(config), "--port", str(broker.port),
             "--duration", "3", "--json", "--client-id", "cli-hub-3"],
            cwd=REPO, capture_output=True, text=True, timeout=30)
    assert watch.returncode == 0, watch.stderr
    kinds = {json.loads(line).get("type") for line in watch.stdout.splitlines()}
    assert {"status", "birth"} <= kinds  # the retained ones, through the section built from --config


def test_hub_watch_names_a_bad_option_value(tmp_path: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "edge", "hub", "watch", "--prefix", "a/b", "--duration", "1"],
                         cwd=REPO, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "topic_prefix" in bad.stderr and "Traceback" not in bad.stderr


def test_hub_watch_goes_on_when_its_out_file_hits_a_full_disk(tmp_path: Path, broker: Broker,
                                                              small_disk: Path) -> None:
    fill(small_disk)
    with live_node(tmp_path, broker.port) as node:
        assert wait_until(lambda: node.link.connected, timeout=10)
        watch = subprocess.Popen(
            [sys.executable, "-m", "edge", "hub", "watch", "--port", str(broker.port), "--count", "2", "--json",
             "--out", str(small_disk / "events.jsonl"), "--duration", "30", "--client-id", "cli-hub-4"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert watch.stdout is not None
        seen = [json.loads(watch.stdout.readline())]  # the retained status: it has subscribed
        for i in range(2):
            node.outbox.append("weight", weight_body(i, ["p1"]), time.time())
        stdout, stderr = watch.communicate(timeout=40)
    seen += [json.loads(line) for line in stdout.splitlines()]
    assert watch.returncode == 0, stderr
    assert "cannot write" in stderr and "watching goes on" in stderr and "Traceback" not in stderr
    assert sum(record.get("type") == "event" for record in seen) == 2
