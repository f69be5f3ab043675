"""`shelf-node sim capture` and `shelf-node sim run` as a technician runs them."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.loadcell.recording import read_header
from tests.sim.helpers import frame_ok

REPO = Path(__file__).resolve().parents[2]
NODE_TOML = """
[node]
store_id = "s1"
node_id = "shelf-7"
[serial]
port = "/dev/null"
channels = 6
[[plates]]
name = "left"
channels = [0, 1, 2]
[[plates]]
name = "right"
channels = [3, 4, 5]
"""


def test_capture_from_seed_with_node_config(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(NODE_TOML)
    out, truth = tmp_path / "out.cap", tmp_path / "out.jsonl"
    args = ["sim", "capture", "--config", str(config), "--seed", "4", "--interactions", "25", "--sps", "10",
            "--truth", str(truth), str(out), "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["expect_event"] == 25
    header = read_header(out)
    assert header["node"] == "shelf-7" and header["channels"] == "6" and header["plates"] == "left=0+1+2;right=3+4+5"
    plates = {p for line in truth.read_text().splitlines() for p in json.loads(line)["plates"]}
    assert plates == {"left", "right"}


def test_capture_refuses_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("items = []\n")
    result = CliRunner().invoke(cli, ["sim", "capture", "--scenario", str(bad), "--truth", "t.jsonl", "o.cap"])
    assert result.exit_code == 2
    assert "items" in result.output and "Traceback" not in result.output
    bad.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")  # RecursionError in tomllib
    result = CliRunner().invoke(cli, ["sim", "capture", "--scenario", str(bad), "--truth", "t.jsonl", "o.cap"])
    assert result.exit_code == 2 and "nested too deeply" in result.output, result.output


def test_run_prints_the_pty_first_and_ends_with_the_scenario(tmp_path: Path) -> None:
    link = tmp_path / "shelf-tty"
    command = [sys.executable, "-m", "edge", "sim", "run", "--scenario", str(REPO / "config" / "sim-scenario.toml"),
               "--link", str(link), "--speed", "30", "--truth", str(tmp_path / "t.jsonl"),
               "--planogram-out", str(tmp_path / "run-planogram.json")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode().split()
        assert first[0].startswith("/dev/pts/") and first[1] == str(link)
        fd = os.open(link, os.O_RDONLY | os.O_NOCTTY)
        chunk = b""
        try:
            while chunk.count(b"\n") < 5 and select.select([fd], [], [], 5.0)[0]:
                chunk += os.read(fd, 4096)
        finally:
            os.close(fd)
        assert any(frame_ok(line) for line in chunk.split(b"\n")[1:-1])
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert kinds.count("pick") == 6 and "reboot" in kinds
    assert not link.exists()
    # the live run's planogram is the one `sim capture --planogram-out` writes for the same scenario
    captured = tmp_path / "capture-planogram.json"
    done = subprocess.run([sys.executable, "-m", "edge", "sim", "capture", "--scenario",
                           str(REPO / "config" / "sim-scenario.toml"), "--truth", str(tmp_path / "c.jsonl"),
                           "--planogram-out", str(captured), str(tmp_path / "c.cap")],
                          capture_output=True, cwd=REPO, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    planogram = json.loads((tmp_path / "run-planogram.json").read_text())
    assert planogram == json.loads(captured.read_text()) and planogram["format"] == 2 and planogram["plates"]


def test_capture_warns_when_the_baud_rate_cannot_carry_the_frames(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(NODE_TOML)
    base = ["sim", "capture", "--config", str(config), "--seed", "1", "--interactions", "2", "--truth",
            str(tmp_path / "t.jsonl"), str(tmp_path / "o.cap")]  # fmt: skip
    fast = CliRunner().invoke(cli, [*base, "--sps", "320"])
    assert fast.exit_code == 0 and "raise serial.baudrate" in fast.stderr
    normal = CliRunner().invoke(cli, [*base, "--sps", "80"])
    assert normal.exit_code == 0 and "warning" not in normal.stderr


def test_generate_then_capture_the_edited_file(tmp_path: Path) -> None:
    scenario = tmp_path / "gen.toml"
    made = CliRunner().invoke(cli, ["sim", "generate", "--seed", "6", "--interactions", "10", "-o", str(scenario)])
    assert made.exit_code == 0, made.output
    text = scenario.read_text().replace('kind = "pick"', 'kind = "pick"\nnote = "edited"', 1)
    scenario.write_text(text)
    args = [
        "sim",
        "capture",
        "--scenario",
        str(scenario),
        "--truth",
        str(tmp_path / "t.jsonl"),
        str(tmp_path / "o.cap"),
    ]
    assert CliRunner().invoke(cli, args).exit_code == 0
    details = [json.loads(line)["detail"] for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert sum("edited" in d for d in details) == 1


def test_mixed_capture_writes_the_planogram_the_node_checks(tmp_path: Path) -> None:
    out, truth, planogram = tmp_path / "m.cap", tmp_path / "m.jsonl", tmp_path / "m.json"
    args = ["sim", "capture", "--mixed", "--seed", "5", "--interactions", "30", "--sps", "10", "--truth", str(truth),
            "--planogram-out", str(planogram), str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    document = json.loads(planogram.read_text())
    assert document["format"] == 2 and len(document["plates"]) == 4
    assert any(len(slots) == 2 for slots in document["plates"].values())  # mixed plates
    rows = [json.loads(line) for line in truth.read_text().splitlines()]
    skus = {entry["sku"] for entry in document["catalogue"]}
    assert all(row["sku"] in skus for row in rows if row["expect_event"])
    check = CliRunner().invoke(cli, ["planogram", "check", str(planogram)])
    assert check.exit_code == 0, check.output
    bad = CliRunner().invoke(cli, ["sim", "capture", "--mixed", "--duration", "60", "--truth", str(truth), str(out)])
    assert bad.exit_code != 0 and "--interactions" in bad.output
