"""`shelf-node outbox` as technicians run it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.publisher import weight_body
from edge.outbox import Outbox
from tests.mqtt.nodecfg import write_config

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
