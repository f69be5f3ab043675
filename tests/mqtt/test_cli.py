"""`shelf-node outbox` and `shelf-node hub watch` as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.mqtt.demo_publisher import weight_body
from edge.outbox import Outbox
from tests.mqtt.live import live_node
from tests.mqtt.nodecfg import write_config
from tests.plugins.broker import Broker

REPO = Path(__file__).resolve().parents[2]


def test_outbox_status_and_export(tmp_path: Path) -> None:
    config = write_config(tmp_path, 1883)
    runner = CliRunner()
    missing = runner.invoke(cli, ["outbox", "--config", str(config)])
    assert missing.exit_code == 1 and "no outbox at" in missing.output
    box = Outbox(tmp_path / "state" / "outbox.sqlite3")
    ids = [box.append("weight", weight_body(i, ["p1"]), 1_790_000_000.0 + i).event_id for i in range(3)]
    box.mark_rejected(2, "Not authorized")
    box.close()
    human = runner.invoke(cli, ["outbox", "--config", str(config)])
    assert human.exit_code == 0 and "depth" in human.output and "rejected_kept" in human.output
    as_json = runner.invoke(cli, ["outbox", "status", "--config", str(config), "--json"])
    status = json.loads(as_json.output)
    assert (status["depth"], status["rejected"], status["last_seq"]) == (2, 1, 3)
    out = tmp_path / "pending.jsonl"
    exported = runner.invoke(cli, ["outbox", "export", "--config", str(config), str(out)])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["seq"], r["event_id"], r["state"]) for r in lines] == [
        (1, ids[0], "pending"), (2, ids[1], "rejected"), (3, ids[2], "pending")]
    assert lines[0]["ts"] == "2026-09-21T14:13:20.000Z" and lines[0]["body"]["plates"] == ["p1"]
    only_pending = runner.invoke(cli, ["outbox", "export", "--config", str(config), "--pending-only"])
    assert [json.loads(line)["seq"] for line in only_pending.stdout.splitlines()] == [1, 3]


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
    from tests.mqtt.live import send

    send(broker.port, "shelf/s1/n1/events", b'{"seq": "one"}')
    stdout, stderr = watch.communicate(timeout=20)
    assert watch.returncode == 1
    assert "INVALID event" in stdout and "contract problem" in stderr
