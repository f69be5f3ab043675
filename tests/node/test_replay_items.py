"""`shelf-node replay --planogram`: a simulated capture gives the expected item events, deterministically,
through the same ItemStep as the daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.item_scoring import judge, match_items, review_summary, unit_f1
from edge.config import parse_config
from edge.node.items import ItemStep
from edge.node.replay import Replay
from edge.planogram import parse_planogram
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.planogram_doc import planogram_document
from edge.sim.truth import read_truth
from edge.weighing import CalibrationStore
from tests.node.replay_shelf import PLATES, record_shelf


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4-plate simulated shelf with a designed planogram (twins, mixed plates): 60 interactions, 40 SPS."""
    root = tmp_path_factory.mktemp("replay-items")
    scenario = generate_mixed_scenario(11, PLATES, 60)
    paths = record_shelf(root, scenario)
    paths["planogram"] = root / "planogram.json"
    paths["planogram"].write_text(json.dumps(planogram_document(scenario)))
    return paths


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
