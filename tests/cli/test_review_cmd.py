"""`shelf-node review show` / `review list` over a node's state directory (the seeded flagged pick)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.hw.canvas import decode_picture
from edge.outbox import Outbox
from tests.fusion.helpers import PLATES
from tests.vision.review_scene import EVENT_ID, kept_pick


def node_config(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    plates = "".join(f'[[plates]]\nname = "{name}"\nchannels = [{i}]\n' for i, name in enumerate(PLATES))
    path = tmp_path / "node.toml"
    path.write_text(f'[node]\nstore_id = "s1"\nnode_id = "n1"\nstate_dir = "{state}"\n'
                    f'[serial]\nport = "loop://"\nchannels = 5\n{plates}', encoding="utf-8")
    return path


def test_show_prints_the_event_and_writes_its_card(tmp_path: Path) -> None:
    config = node_config(tmp_path)
    kept_pick(tmp_path / "state")
    out = tmp_path / "card.png"
    result = CliRunner().invoke(cli, ["review", "show", EVENT_ID[:8], "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"item event {EVENT_ID}  seq 7" in result.output
    assert "review: required (twin)" in result.output
    assert "pick 1 x APPLE-1KG p2" in result.output and "pick 1 x CARROT-1KG p2" in result.output
    assert "pictures: after, before, best, hand" in result.output
    assert decode_picture(out.read_bytes(), "card").shape == (900, 1280, 3)

    listed = CliRunner().invoke(cli, ["review", "list", "--config", str(config), "--json"])
    assert listed.exit_code == 0 and [r["event_id"] for r in json.loads(listed.output)] == [EVENT_ID]
    as_json = CliRunner().invoke(cli, ["review", "show", EVENT_ID, "--config", str(config), "--out", str(out),
                                       "--json"])
    shown = json.loads(as_json.output)
    assert shown["card"] == str(out) and shown["body"]["review"]["reasons"] == ["twin"]


def test_an_item_event_still_in_the_outbox_is_shown_too(tmp_path: Path) -> None:
    config = node_config(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    record = kept_pick(tmp_path / "elsewhere", camera=False)
    box = Outbox(tmp_path / "state" / "outbox.sqlite3")
    stored = box.append("item", record["body"], produced_at=1.79e9)
    box.close()
    out = tmp_path / "card.png"
    result = CliRunner().invoke(cli, ["review", "show", stored.event_id, "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"seq {stored.seq}" in result.output and "pictures: none" in result.output and out.is_file()


def test_an_unknown_event_says_where_it_looked_and_what_to_run(tmp_path: Path) -> None:
    config = node_config(tmp_path)
    result = CliRunner().invoke(cli, ["review", "show", "0123456789", "--config", str(config)])
    assert result.exit_code == 1
    assert "no item event '0123456789' kept in" in result.output and "shelf-node review list" in result.output
    empty = CliRunner().invoke(cli, ["review", "list", "--config", str(config)])
    assert empty.exit_code == 0 and "no flagged item events kept" in empty.output


def test_stats_prints_the_reviewed_outcomes_per_bin_and_refuses_a_damaged_file(tmp_path: Path) -> None:
    from edge.fusion.reliability import Outcome, OutcomeRecord
    from edge.node.answers import STATE_FILE

    config = node_config(tmp_path)
    empty = CliRunner().invoke(cli, ["review", "stats", "--config", str(config)])
    assert empty.exit_code == 0 and "0 reviewed outcomes" in empty.output and "lowered in: none" in empty.output
    record = OutcomeRecord()
    for i in range(40):  # fusion said 0.975 and agreed with the reviewer 30 times
        record.add(Outcome(f"e{i}", 0.975, i >= 10, False, False, 1.79e9 + i))
    (tmp_path / "state" / STATE_FILE).write_text(json.dumps(record.to_json()))
    shown = CliRunner().invoke(cli, ["review", "stats", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "40 reviewed outcomes" in shown.output and "lowered in: 0.96-0.99" in shown.output
    as_json = json.loads(CliRunner().invoke(cli, ["review", "stats", "--config", str(config), "--json"]).output)
    (row,) = [r for r in as_json["bins"] if r["answers"]]
    assert (row["bin"], row["decided"], row["decided_agreed"]) == ("0.96-0.99", 40, 30) and row["cap"] < 0.9
    (tmp_path / "state" / STATE_FILE).write_text("{\"format\": 1, \"outcomes\": [")
    damaged = CliRunner().invoke(cli, ["review", "stats", "--config", str(config)])
    assert damaged.exit_code != 0 and "not JSON" in damaged.output
    assert (tmp_path / "state" / STATE_FILE).exists()  # the command only reads: the node moves it aside
