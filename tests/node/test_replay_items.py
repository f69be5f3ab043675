"""`shelf-node replay --planogram`: a simulated capture gives the expected item events, deterministically,
through the same ItemStep as the daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import parse_config
from edge.loadcell.recording import read_header
from edge.node.items import ItemStep
from edge.node.replay import Replay
from edge.planogram import parse_planogram
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.item_scoring import judge, match_items, review_summary, unit_f1
from edge.sim.offline import simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.truth import read_truth
from edge.weighing import CalibrationStore

CONFIG = """
[node]
store_id = "s1"
node_id = "shelf1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 8
""" + "".join(f'[[plates]]\nname = "p{i + 1}"\nchannels = [{2 * i}, {2 * i + 1}]\n' for i in range(4))


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4-plate simulated shelf with a designed planogram (twins, mixed plates): 60 interactions, 40 SPS."""
    root = tmp_path_factory.mktemp("replay-items")
    config_path = root / "node.toml"
    config_path.write_text(CONFIG.format(state=root / "state"))
    config = parse_config(config_path.read_text())
    scenario = generate_mixed_scenario(11, config.plate_names(), 60)
    capture, truth = root / "shelf.cap", root / "truth.jsonl"
    simulate_to_capture(scenario, capture, truth, sps=40.0, config=config)
    header = read_header(capture)
    offsets, scales = header["sim_offsets"].split(","), header["sim_counts_per_gram"].split(",")
    channels = [{"offset": float(o), "counts_per_gram": float(s)} for o, s in zip(offsets, scales, strict=True)]
    calibration = root / "calibration.json"
    calibration.write_text(json.dumps({"format": 1, "channels": channels, "plates": {}}))
    planogram = root / "planogram.json"
    planogram.write_text(json.dumps(planogram_document(scenario)))
    return {"config": config_path, "capture": capture, "truth": truth, "calibration": calibration,
            "planogram": planogram}


def replay(shelf: dict[str, Path], out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge", "replay", "--config", str(shelf["config"]), str(shelf["capture"]),
               "--calibration", str(shelf["calibration"]), "--planogram", str(shelf["planogram"]), "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_replay_writes_item_events_deterministically(shelf: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert replay(shelf, first).returncode == 0
    assert replay(shelf, second).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    items = [json.loads(line) for line in first.read_text().splitlines()]
    assert items and all(item["action"] in {"pick", "put", "unknown", "restock"} for item in items)
    assert all(ref["seq"] >= 1 for item in items for ref in item["weight_events"])


def test_replayed_item_events_match_the_truth(shelf: dict[str, Path]) -> None:
    config = parse_config(shelf["config"].read_text())
    planogram = parse_planogram(shelf["planogram"].read_bytes(), config.plate_names())
    step = ItemStep(config, planogram=planogram)
    run = Replay(config, shelf["capture"], CalibrationStore(shelf["calibration"], read_only=True))
    items = []
    for index, (t_emit, event) in enumerate(run.events(), start=1):
        items += step.weight_event(event, None, None, t_emit, None, index)
    items += step.flush()
    groups = match_items(items, read_truth(shelf["truth"]))
    judged = judge(groups)
    review = review_summary(judged)
    assert unit_f1(groups)["f1"] >= 0.8  # weight + planogram only, on a shelf designed with twins
    assert review["unflagged"] >= 0.3 * review["events"]
    assert review["unflagged_wrong"] == 0, review  # what goes unflagged is right; the rest is flagged
