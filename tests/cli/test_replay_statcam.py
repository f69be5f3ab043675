"""`shelf-node replay --stat-camera TRUTH [--scenario FILE] [--camera-seed N]`: the item events' camera evidence from
the simulator's statistical camera (edge/cli/replay_statcam.py), through the same ItemStep as the daemon.

A shelf simulated by `sim capture` (a mixed plate of label-distinct weight twins: apples and oranges) is replayed
with its truth and scenario: each item event's vision section says what the statistical camera, drawn
independently here, shows on its plates; two runs give the same bytes, another seed other ones; the same shelf with
a camera outage in the scenario gives `camera: down` for the events under it, and `camera_unavailable` for those it
flags (a pick from the twin plate). Bad truth, scenario and option combinations are refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench.weighing_replay import write_true_calibration
from edge.cli import cli
from edge.config import parse_config
from edge.fusion.factors import seen_labels
from edge.fusion.settings import settings_from_config
from edge.loadcell.recording import read_header
from edge.node.replay import Replay
from edge.planogram import load_planogram_file
from edge.sim.scenario import load_scenario
from edge.sim.stat_camera import StatisticalCamera
from edge.sim.truth import read_truth
from edge.weighing import CalibrationStore
from tests.node.replay_shelf import CONFIG, PLATES

ITEMS = """
name = "statcam-replay"
seed = 23
[[items]]
sku = "granny-smith-1kg"
unit_g = 1020.0
variation = 0.008
labels = ["apple"]
look = "Granny-Smith"
[[items]]
sku = "orange-net-1kg"
unit_g = 1012.0
variation = 0.008
labels = ["orange"]
look = "Orange"
[[items]]
sku = "pink-lady-1kg"
unit_g = 1028.0
variation = 0.008
labels = ["apple"]
look = "Pink-Lady"
[[items]]
sku = "water-500"
unit_g = 517.0
variation = 0.008
labels = ["bottle"]
look = "water_bottle"
[[items]]
sku = "gum-pack"
unit_g = 32.0
variation = 0.02
""" + "".join(f'[[planogram]]\nplate = "{plate}"\nsku = "{sku}"\nstock = {stock}\n' for plate, sku, stock in (
    ("p1", "granny-smith-1kg", 4), ("p1", "orange-net-1kg", 4), ("p2", "pink-lady-1kg", 3), ("p3", "water-500", 10),
    ("p4", "gum-pack", 40))) + "".join(
    f'[[actions]]\nat = {at}\nkind = "pick"\nplate = "{plate}"\nsku = "{sku}"\ncount = {count}\n'
    for at, plate, sku, count in ((2.0, "p1", "orange-net-1kg", 1), (8.0, "p3", "water-500", 2),
                                  (14.0, "p1", "granny-smith-1kg", 1), (20.0, "p4", "gum-pack", 3),
                                  (26.0, "p2", "pink-lady-1kg", 1), (32.0, "p1", "orange-net-1kg", 1)))
OUTAGE = (12.0, 6.0)  # the camera down from 12 s for 6 s: over the pick from the twin plate at 14 s
DOWN = f'[[actions]]\nat = {OUTAGE[0]}\nkind = "camera_down"\nduration_s = {OUTAGE[1]}\n'


def simulate(root: Path, scenario_text: str) -> dict[str, Path]:
    """`sim capture` of the scenario on the 4-plate shelf of CONFIG, with its planogram and true calibration."""
    root.mkdir()
    paths = {name: root / file for name, file in (
        ("config", "node.toml"), ("scenario", "scenario.toml"), ("capture", "shelf.cap"), ("truth", "truth.jsonl"),
        ("planogram", "planogram.json"), ("calibration", "calibration.json"))}
    paths["config"].write_text(CONFIG.format(state=root / "state"))
    paths["scenario"].write_text(scenario_text)
    done = CliRunner().invoke(cli, ["sim", "capture", "--config", str(paths["config"]), "--scenario",
                                    str(paths["scenario"]), "--sps", "20", "--truth", str(paths["truth"]),
                                    "--planogram-out", str(paths["planogram"]), str(paths["capture"])])
    assert done.exit_code == 0, done.output
    write_true_calibration(paths["capture"], paths["calibration"])
    return paths


@pytest.fixture(scope="module")
def shelves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("statcam")
    return {"seen": simulate(root / "seen", ITEMS), "down": simulate(root / "down", ITEMS + DOWN)}


def invoke(shelf: dict[str, Path], out: Path, *extra: str, scenario: bool = True) -> Any:
    command = ["replay", "--config", str(shelf["config"]), str(shelf["capture"]), "--calibration",
               str(shelf["calibration"]), "--planogram", str(shelf["planogram"]), "--out", str(out), "--json",
               "--stat-camera", str(shelf["truth"]), *(["--scenario", str(shelf["scenario"])] if scenario else []),
               *extra]
    return CliRunner().invoke(cli, command)


def replay(shelf: dict[str, Path], out: Path, *extra: str, scenario: bool = True) -> tuple[list[dict[str, Any]],
                                                                                          dict[str, Any]]:
    done = invoke(shelf, out, *extra, scenario=scenario)
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in out.read_text().splitlines()], json.loads(done.stdout)


def expected_vision(shelf: dict[str, Path], seed: int) -> dict[int, dict[str, Any]]:
    """Per weight event (its 1-based index), what the statistical camera shows on its plates over the node's window
    (1 s either side), drawn here from the truth and the scenario's items, as fusion keeps it (catalogue labels
    at or above the score floor, flickers dropped)."""
    config = parse_config(shelf["config"].read_text())
    settings = settings_from_config(config.fusion)
    vocabulary = frozenset(label for entry in load_planogram_file(shelf["planogram"], PLATES).catalogue
                           for label in entry.labels)
    camera = StatisticalCamera(list(read_truth(shelf["truth"])), load_scenario(shelf["scenario"]).items, PLATES, seed)
    events = Replay(config, shelf["capture"], CalibrationStore(shelf["calibration"], read_only=True)).events()
    expected: dict[int, dict[str, Any]] = {}
    for index, (_, event) in enumerate(events, start=1):
        evidence = camera.evidence(event.t_start - 1.0, event.t_end + 1.0)
        plates = sorted(event.plate_deltas)
        if evidence is None:
            expected[index] = {"camera": "down"}
            continue
        labels = seen_labels(evidence, plates, vocabulary, settings.vision_min_score, settings.vision_flicker_share)
        expected[index] = {"camera": "ok", "labels": {label: round(best, 3) for label, best in sorted(labels.items())},
                           "hand_present": any(evidence[p].hand_present for p in plates),
                           "frames": sum(evidence[p].frames for p in plates)}
    return expected


def test_item_events_carry_the_statistical_cameras_evidence(shelves: dict[str, dict[str, Path]],
                                                           tmp_path: Path) -> None:
    items, summary = replay(shelves["seen"], tmp_path / "items.jsonl")
    assert summary["stat_camera"]["seed"] == 23 and summary["stat_camera"]["interactions"] == 6
    assert summary["stat_camera"]["events"] == summary["events"] and summary["stat_camera"]["camera_down"] == 0
    expected = expected_vision(shelves["seen"], 23)
    single = [item for item in items if len(item["weight_events"]) == 1]
    assert len(single) >= 5, items
    for item in single:
        vision = item["evidence"]["vision"]
        want = expected[item["weight_events"][0]["seq"]]
        assert {key: vision[key] for key in want} == want, (item["lines"], vision, want)
    assert sum(bool(item["evidence"]["vision"]["labels"]) for item in single) >= 4  # the labels reached fusion
    oranges = [i for i in items if [line["sku"] for line in i["lines"]] == ["orange-net-1kg"]]
    assert oranges and all("orange" in i["evidence"]["vision"]["labels"] for i in oranges)


def test_the_same_inputs_give_the_same_bytes_and_another_seed_other_ones(shelves: dict[str, dict[str, Path]],
                                                                        tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    replay(shelves["seen"], first)
    replay(shelves["seen"], second)
    assert first.read_bytes() == second.read_bytes() and first.stat().st_size > 0
    _, summary = replay(shelves["seen"], other, "--camera-seed", "24")
    assert summary["stat_camera"]["seed"] == 24 and other.read_bytes() != first.read_bytes()
    # without --scenario the items come from the planogram's catalogue (store SKUs keep their look), the seed
    # from the capture header: here the same camera
    replay(shelves["seen"], tmp_path / "d.jsonl", scenario=False)
    assert (tmp_path / "d.jsonl").read_bytes() == first.read_bytes()


def test_a_camera_outage_in_the_scenario_leaves_the_events_under_it_without_camera(
        shelves: dict[str, dict[str, Path]], tmp_path: Path) -> None:
    assert shelves["down"]["capture"].read_bytes() == shelves["seen"]["capture"].read_bytes()  # the same weights
    seen, _ = replay(shelves["seen"], tmp_path / "seen.jsonl")
    down, summary = replay(shelves["down"], tmp_path / "down.jsonl")
    assert summary["stat_camera"]["outages"] == 1 and summary["stat_camera"]["camera_down"] >= 1
    start = float(read_header(shelves["down"]["capture"])["start_time"])  # the scenario's 0 s on the capture clock
    outage = (start + OUTAGE[0], start + OUTAGE[0] + OUTAGE[1])
    under = [i for i in down if i["t_start_unix"] - 1.0 <= outage[1] and i["t_end_unix"] + 1.0 >= outage[0]]
    assert under and all(i["evidence"]["vision"]["camera"] == "down" for i in under), under
    assert all(i["evidence"]["vision"]["camera"] == "ok" for i in down if i not in under)
    twin_pick = [i for i in under if i["evidence"]["plates"].keys() == {"p1"}]
    assert twin_pick and all(i["review"]["required"] and "camera_unavailable" in i["review"]["reasons"]
                             for i in twin_pick), twin_pick
    # the same pick with the camera up: seen, and not flagged for the camera
    twin_seen = [i for i in seen if i["t_start_unix"] == twin_pick[0]["t_start_unix"]]
    assert twin_seen and twin_seen[0]["evidence"]["vision"]["camera"] == "ok"
    assert "camera_unavailable" not in twin_seen[0]["review"]["reasons"]


def refused(shelf: dict[str, Path], tmp_path: Path, *extra: str, truth: Path | None = None,
            scenario: Path | None = None) -> str:
    base = ["replay", "--config", str(shelf["config"]), str(shelf["capture"]), "--calibration",
            str(shelf["calibration"]), "--out", str(tmp_path / "out.jsonl")]
    if truth is not None:
        base += ["--stat-camera", str(truth)]
    if scenario is not None:
        base += ["--scenario", str(scenario)]
    done = CliRunner().invoke(cli, [*base, *extra])
    assert done.exit_code == 2 and (done.exception is None or isinstance(done.exception, SystemExit)), done.output
    assert "Traceback" not in done.output
    return done.output


def test_option_combinations_are_refused_by_name(shelves: dict[str, dict[str, Path]], tmp_path: Path) -> None:
    shelf = shelves["seen"]
    planogram = ["--planogram", str(shelf["planogram"])]
    both = refused(shelf, tmp_path, *planogram, "--frames", str(tmp_path), truth=shelf["truth"])
    assert "--frames DIR" in both and "--stat-camera TRUTH" in both and "not both" in both
    assert "add --planogram FILE" in refused(shelf, tmp_path, truth=shelf["truth"])
    assert "add --stat-camera TRUTH" in refused(shelf, tmp_path, *planogram, scenario=shelf["scenario"])
    assert "add --stat-camera TRUTH" in refused(shelf, tmp_path, *planogram, "--camera-seed", "3")
    over = CliRunner().invoke(cli, ["replay", "--config", str(shelf["config"]), str(shelf["capture"]), *planogram,
                                    "--stat-camera", str(shelf["truth"]), "--out", str(shelf["truth"])])
    assert over.exit_code != 0 and "--stat-camera truth" in over.output and "erase" in over.output


def test_bad_truth_and_scenario_files_are_refused_naming_the_file_and_line(
        shelves: dict[str, dict[str, Path]], tmp_path: Path) -> None:
    shelf = shelves["seen"]
    planogram = ("--planogram", str(shelf["planogram"]))
    lines = shelf["truth"].read_text().splitlines()

    def truth_file(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    cases: dict[str, tuple[str | bytes, str, str]] = {
        "garbage.jsonl": (lines[0] + "\n{not json\n", ":2: not a truth record", "sim capture"),
        "binary.jsonl": (lines[0].encode() + b"\n\xff\xfe\x00\x81\n", ":2: not UTF-8 text", "--truth"),
        "empty.jsonl": ("\n\n", "no truth records", "sim capture"),
        "sku.jsonl": (lines[0] + "\n" + lines[1].replace('"water-500"', '"mystery-sku"') + "\n",
                      ":2: record 1 (pick): sku 'mystery-sku' is not in the scenario", "sim capture"),
        "plate.jsonl": (lines[0].replace('"p1"', '"p9"') + "\n", ":1: record 0 (pick): plates ['p9']",
                        "the config the capture was simulated with"),
        "early.jsonl": (json.dumps({**json.loads(lines[0]), "t_start": 1000.0}) + "\n",
                        "before the capture's start_time", "not this capture's truth"),
    }
    for name, (content, where, how) in cases.items():
        path = truth_file(name, content)
        message = refused(shelf, tmp_path, *planogram, truth=path, scenario=shelf["scenario"])
        assert f"{path}" in message and where in message and how in message, (name, message)

    toml = tmp_path / "bad.toml"
    toml.write_text("name = [unclosed\n")
    message = refused(shelf, tmp_path, *planogram, truth=shelf["truth"], scenario=toml)
    assert str(toml) in message and "--scenario" in message, message
    other = tmp_path / "other-seed.toml"
    other.write_text(ITEMS.replace("seed = 23", "seed = 5"))
    message = refused(shelf, tmp_path, *planogram, truth=shelf["truth"], scenario=other)
    assert "seed 23" in message and "seed 5" in message and "--camera-seed N" in message, message
    done = invoke(shelf, tmp_path / "ok.jsonl", "--camera-seed", "5", scenario=False)
    assert done.exit_code == 0, done.output  # an explicit seed is taken as given

    unseeded = tmp_path / "unseeded.cap"
    unseeded.write_bytes(shelf["capture"].read_bytes().replace(b"# source: sim seed=23", b"# source: recorded", 1))
    message = refused({**shelf, "capture": unseeded}, tmp_path, *planogram, truth=shelf["truth"])
    assert str(unseeded) in message and "--camera-seed N" in message, message
