"""`shelf-node replay --frames`: the real detector on the recorded frames of a capture, through the vision
service's ring, detector and evidence, on the capture's clock. A pick from a plate of oranges and large apples
(weight twins) is settled by vision; without the frames the same event is flagged `twin`; the run is
deterministic. Needs the shared model and photos (skipped otherwise)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.node.frames_shelf import APPLE, ORANGE, record_with_frames, twin_scenario

PICK_ORANGE = [{"at": 4.0, "kind": "pick", "plate": "p2", "sku": ORANGE}]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory, shared_model_dir: Path,
          shared_images_dir: Path) -> dict[str, Path]:
    return record_with_frames(tmp_path_factory.mktemp("frames-shelf"), twin_scenario(PICK_ORANGE),
                              shared_model_dir, shared_images_dir)


def replay(shelf: dict[str, Path], out: Path, frames: bool = True) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "edge", "replay", "--config", str(shelf["config"]), str(shelf["capture"]),
               "--calibration", str(shelf["calibration"]), "--planogram", str(shelf["planogram"]),
               "--out", str(out), "--json"]
    if frames:
        command += ["--frames", str(shelf["frames"])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert ("camera" in summary) == frames
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_replay_with_frames_is_deterministic(shelf: dict[str, Path], tmp_path: Path) -> None:
    first = replay(shelf, tmp_path / "a.jsonl")
    replay(shelf, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    vision = [item["evidence"]["vision"] for item in first]
    assert vision and all(v["camera"] == "ok" and v["frames"] >= 10 for v in vision), vision


def test_a_pick_of_an_orange_among_large_apples_is_settled_by_vision(shelf: dict[str, Path], tmp_path: Path) -> None:
    (seen,) = replay(shelf, tmp_path / "seen.jsonl")
    assert seen["action"] == "pick" and [line["sku"] for line in seen["lines"]] == [ORANGE], seen
    assert not seen["review"]["required"], seen["review"]
    (blind,) = replay(shelf, tmp_path / "blind.jsonl", frames=False)
    assert blind["review"]["required"] and "twin" in blind["review"]["reasons"], blind["review"]
    answers = [blind["lines"], *(a["lines"] for a in blind["alternatives"][:1])]
    assert {line["sku"] for lines in answers for line in lines} == {ORANGE, APPLE}, blind
