"""`shelf-node replay` over simulator captures: deterministic, accurate, clear errors (the weighing
benchmark's short run is tests/bench/test_weighing.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.truth_match import match_events, summarize_matches
from edge.sim.generate import generate_scenario
from edge.sim.truth import read_truth
from tests.node.replay_shelf import CONFIG, PLATES, record_shelf

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4-plate, 8-channel simulated shelf: 40 interactions at 40 SPS, its truth and calibration."""
    root = tmp_path_factory.mktemp("replay")
    return record_shelf(root, generate_scenario(7, interactions=40, plates=PLATES))


def replay(*args: object) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge", "replay", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_replay_is_byte_for_byte_deterministic(shelf: dict[str, Path]) -> None:
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        out = shelf["root"] / name
        done = replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"],
                      "--out", out, "--json")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["frames"] > 5_000 and summary["events"] > 30
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # without --out the events go to stdout, the summary to stderr: the same bytes again
    done = replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"])
    assert done.returncode == 0 and done.stdout.encode() == outputs[0]
    assert "weight events" in done.stderr


def test_replayed_events_match_the_truth(shelf: dict[str, Path]) -> None:
    out = shelf["root"] / "c.jsonl"
    done = replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"], "--out", out)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["t_end_unix"] <= r["t_emit_unix"] and r["t_start_iso"].endswith("Z") for r in records)
    from edge.model import WeightEvent

    events = [
        (r["t_emit_unix"], WeightEvent(r["t_start_unix"], r["t_end_unix"], r["plate_deltas_g"], r["delta_g"],
                                       r["sigma_g"], r["quality"], tuple(r["flags"])))
        for r in records
    ]
    truth = list(read_truth(shelf["truth"]))
    score = summarize_matches(match_events(events, truth), truth)
    assert score["f1"] >= 0.9, score
    assert score["abs_error_g"]["median"] <= 1.5, score


def test_replay_refuses_a_capture_recorded_with_another_wiring(shelf: dict[str, Path]) -> None:
    other = shelf["root"] / "other.toml"
    other.write_text(CONFIG.format(state=shelf["root"]).replace("channels = 8", "channels = 10"))
    done = replay("--config", other, shelf["capture"])
    assert done.returncode == 1
    assert "8 channels but serial.channels = 10" in done.stderr and "config it was recorded with" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_replay_reports_a_corrupt_calibration_file(shelf: dict[str, Path]) -> None:
    broken = shelf["root"] / "broken.json"
    broken.write_text("{")
    done = replay("--config", shelf["config"], shelf["capture"], "--calibration", broken)
    assert done.returncode == 1 and "calibration file is corrupt" in done.stderr


def damaged_copy(shelf: dict[str, Path], name: str, bad_lines: dict[float, str]) -> tuple[Path, list[int]]:
    """The shelf's capture with `text` lines inserted at the given fractions of its length; their line numbers."""
    lines = shelf["capture"].read_text().splitlines(keepends=True)
    numbers = []
    for fraction, text in sorted(bad_lines.items(), reverse=True):
        lines.insert(round(len(lines) * fraction), text + "\n")
    for index, line in enumerate(lines, start=1):
        if line.rstrip("\n") in bad_lines.values():
            numbers.append(index)
    path = shelf["root"] / name
    path.write_text("".join(lines))
    return path, numbers


def test_a_damaged_line_stops_the_replay_but_keeps_the_events_before_it(shelf: dict[str, Path]) -> None:
    damaged, (bad_line,) = damaged_copy(shelf, "damaged.cap", {0.6: "1796147510.000000 no tab here"})
    full = shelf["root"] / "full.jsonl"
    assert replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"],
                  "--out", full).returncode == 0
    out = shelf["root"] / "until-damage.jsonl"
    done = replay("--config", shelf["config"], damaged, "--calibration", shelf["calibration"], "--out", out, "--json")
    assert done.returncode == 1
    assert f"damaged.cap:{bad_line}: missing TAB" in done.stderr and "--skip-bad" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("shelf-node: replay stopped early")
    written = out.read_text().splitlines()
    summary = json.loads(done.stdout)
    assert summary["stopped"].startswith(f"{damaged}:{bad_line}:")
    assert 0 < len(written) == summary["events"] < len(full.read_text().splitlines())
    # exactly the events the undamaged capture gives up to that point
    assert written == full.read_text().splitlines()[: len(written)]


def test_skip_bad_skips_and_counts_damaged_lines(shelf: dict[str, Path]) -> None:
    damaged, numbers = damaged_copy(shelf, "damaged2.cap", {0.3: "garbage without a tab", 0.7: "nan\t$W,1,2*00"})
    full = shelf["root"] / "full2.jsonl"
    assert replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"],
                  "--out", full).returncode == 0
    out = shelf["root"] / "skipped.jsonl"
    done = replay("--config", shelf["config"], damaged, "--calibration", shelf["calibration"], "--out", out,
                  "--skip-bad", "--json")
    assert done.returncode == 0, done.stderr
    reading = json.loads(done.stdout)["reading"]
    assert reading["skipped_lines"] == 2
    assert [s["line"] for s in reading["first_skipped"]] == numbers
    assert out.read_bytes() == full.read_bytes()  # the damaged lines carried no samples: same events
    human = replay("--config", shelf["config"], damaged, "--calibration", shelf["calibration"], "--out",
                   shelf["root"] / "skipped-human.jsonl", "--skip-bad")
    assert f"2 damaged capture lines skipped: line {numbers[0]} (missing TAB" in human.stdout


def test_a_capture_from_another_board_than_the_calibration_gives_flagged_events(shelf: dict[str, Path]) -> None:
    calibration = json.loads(shelf["calibration"].read_text())
    other = shelf["root"] / "other-board.json"
    other.write_text(json.dumps({**calibration, "board": {"uid": "ANOTHER-BOARD", "firmware": "0.1"}}))
    out = shelf["root"] / "other-board.jsonl"
    done = replay("--config", shelf["config"], shelf["capture"], "--calibration", other, "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and all("board_changed" in r["flags"] for r in records)
    change = json.loads(done.stdout)["weighing"]["board_changed"]
    assert change["calibrated_with"]["uid"] == "ANOTHER-BOARD" and change["seen"]["uid"].startswith("SIM")
    same = shelf["root"] / "same-board.jsonl"
    assert replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"],
                  "--out", same).returncode == 0
    assert not any("board_changed" in json.loads(line)["flags"] for line in same.read_text().splitlines())


def test_out_onto_an_input_is_refused_and_erases_nothing(shelf: dict[str, Path]) -> None:
    before = shelf["capture"].read_bytes()
    done = replay("--config", shelf["config"], shelf["capture"], "--out", shelf["capture"])
    assert done.returncode == 1
    assert "is the capture; writing the events there would erase it" in done.stderr
    assert shelf["capture"].read_bytes() == before
    done = replay("--config", shelf["config"], shelf["capture"], "--calibration", shelf["calibration"],
                  "--out", shelf["calibration"])
    assert done.returncode == 1 and "is the --calibration file" in done.stderr
    assert json.loads(shelf["calibration"].read_text())["format"] == 1
