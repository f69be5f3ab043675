"""`shelf-node calibration show|undo|reset|confirm-board` on the state directory (issue 11 #2, #4, #18)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.weighing import CalibrationStore, Weigher
from tests.weighing.signals import make_config
from tests.weighing.test_calibration import settle_on


def node_toml(tmp_path: Path) -> Path:
    path = tmp_path / "node.toml"
    state = tmp_path / "state"
    state.mkdir()
    path.write_text(f'[node]\nstore_id = "s1"\nnode_id = "n1"\nstate_dir = "{state}"\n[serial]\nport = "loop://"\n'
                    'channels = 8\n[[plates]]\nname = "p1"\nchannels = [0]\n[[plates]]\nname = "p2"\nchannels = [1]\n')
    return path


def calibration(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["calibration", *args])
    return result.exit_code, result.stdout, result.stderr


def calibrated_state(tmp_path: Path) -> Path:
    config_path = node_toml(tmp_path)
    state = tmp_path / "state"
    weigher = Weigher(make_config(plates=2, state_dir=state), CalibrationStore.in_state_dir(state))
    weigher.observe_board("U1", "fw-1")
    settle_on(weigher, [0.0, 0.0])
    weigher.tare()
    weigher.calibrate("p1", [(100.0, 110.0)])
    return config_path


def test_show_lists_each_plate_with_its_fit_and_the_board(tmp_path: Path) -> None:
    config = calibrated_state(tmp_path)
    code, out, err = calibration("show", "--config", str(config), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["board"] == {"uid": "U1", "firmware": "fw-1"} and data["previous"].endswith("calibration.json.prev")
    assert data["plates"]["p1"]["calibrated"] and data["plates"]["p1"]["scale_correction"] == 1.1
    assert not data["plates"]["p2"]["calibrated"]
    assert data["plates"]["p1"]["channels"]["0"]["counts_per_gram"] == 420 / 1.1
    code, out, _ = calibration("show", "--config", str(config))
    assert code == 0 and "board: uid U1, firmware fw-1" in out
    assert [line.split()[:2] for line in out.splitlines() if line[:2] in ("p1", "p2")] == [["p1", "0"], ["p2", "1"]]


def test_undo_reset_and_confirm_board(tmp_path: Path) -> None:
    config = calibrated_state(tmp_path)
    store = CalibrationStore.in_state_dir(tmp_path / "state")
    assert calibration("undo", "--config", str(config))[0] == 0
    assert store.load(8, 420.0).plate_fits == {}  # back to the tared, uncalibrated file
    assert calibration("undo", "--config", str(config))[0] == 0  # redo
    assert "p1" in store.load(8, 420.0).plate_fits
    code, out, _ = calibration("reset", "p1", "--config", str(config))
    assert code == 0 and "plate p1 reset" in out
    reset = store.load(8, 420.0)
    assert reset.channels[0].offset == 0.0 and reset.channels[0].counts_per_gram == 420.0
    assert reset.channels[1].offset != 0.0 and "p1" not in reset.plate_fits  # p2 keeps its tare
    code, out, _ = calibration("confirm-board", "--config", str(config))
    assert code == 0 and "forgot board uid U1" in out and store.load(8, 420.0).board is None
    code, _, err = calibration("reset", "p9", "--config", str(config))
    assert code == 1 and "unknown plate 'p9'" in err


def test_a_corrupt_file_is_reported_and_reset_all_recovers(tmp_path: Path) -> None:
    config = node_toml(tmp_path)
    (tmp_path / "state" / "calibration.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe random")
    code, _, err = calibration("show", "--config", str(config))
    assert code == 1 and "calibration file is corrupt" in err and "permission" not in err
    code, _, err = calibration("reset", "p1", "--config", str(config))
    assert code == 1 and "corrupt" in err
    assert calibration("reset", "--all", "--config", str(config))[0] == 0
    assert calibration("show", "--config", str(config))[0] == 0
    assert (tmp_path / "state" / "calibration.json.corrupt").read_bytes().startswith(b"\x89PNG")


def test_a_missing_state_directory_is_not_created(tmp_path: Path) -> None:
    config = node_toml(tmp_path)
    config.write_text(config.read_text().replace(str(tmp_path / "state"), str(tmp_path / "typo" / "state")))
    code, _, err = calibration("reset", "--all", "--config", str(config))
    assert code == 1 and "does not exist" in err and not (tmp_path / "typo").exists()
