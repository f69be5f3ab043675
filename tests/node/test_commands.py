"""The node's command handlers over a real Weigher (fed synthetic frames), a real calibration file and a
real snapshot store, dispatched through the real CommandRegistry so the answers' error codes are checked."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.mqtt.commands import CommandRegistry
from edge.node.commands import MAX_SNAPSHOT_BYTES, NodeCommands, parse_points
from edge.vision.snapshots import SnapshotStore
from edge.weighing import CalibrationStore, Weigher
from tests.weighing.signals import ZERO_G, frames, make_config, noisy, run, timeline

SPS = 40.0
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


class StillCamera:
    """Answers every snapshot with one JPEG and remembers whether it was asked for annotation."""

    def __init__(self, jpeg: bytes = JPEG) -> None:
        self.jpeg = jpeg
        self.annotated: list[bool] = []

    def snapshot(self, annotate: bool = True) -> bytes:
        self.annotated.append(annotate)
        return self.jpeg


def settle_on(weigher: Weigher, plates: list[float], t0: float = 1.7e9, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    t = timeline(6.0, SPS, t0)
    run(weigher.config, frames(t, [noisy(np.full(t.shape, g), 0.5, rng) for g in plates]), weigher=weigher)
    return float(t[-1] + 1 / SPS)


def ask(registry: CommandRegistry, name: str, params: Any) -> dict[str, Any]:
    return registry.dispatch(name, json.dumps({"transaction": "t1", "params": params}).encode())


@pytest.fixture
def weigher(tmp_path: Path) -> Weigher:
    return Weigher(make_config(plates=2, state_dir=tmp_path), CalibrationStore.in_state_dir(tmp_path))


@pytest.fixture
def registry(weigher: Weigher) -> CommandRegistry:
    registry = CommandRegistry(allow_state_commands=True)
    NodeCommands(weigher.plate_names, weigher).register(registry)
    return registry


def test_tare_zeroes_one_plate_or_all_and_saves(registry: CommandRegistry, weigher: Weigher, tmp_path: Path) -> None:
    t = settle_on(weigher, [100.0, 0.0])
    one = ask(registry, "tare", {"plate": "p1"})
    assert one["ok"], one
    assert one["result"] == {"tared": {"p1": pytest.approx(ZERO_G + 100.0, abs=0.5)}}
    settle_on(weigher, [100.0, 0.0], t0=t, seed=1)
    assert weigher.stable_reading("p1") == pytest.approx(0.0, abs=0.3)
    every = ask(registry, "tare", {})
    assert set(every["result"]["tared"]) == {"p1", "p2"}
    assert json.loads((tmp_path / "calibration.json").read_text())["format"] == 1


def test_tare_of_an_unknown_plate_is_invalid_params(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [0.0, 0.0])
    answer = ask(registry, "tare", {"plate": "p9"})
    assert answer["error"]["code"] == "invalid_params"
    assert "['p1', 'p2']" in answer["error"]["message"]


def test_tare_before_any_sample_fails_and_says_to_wait(registry: CommandRegistry) -> None:
    answer = ask(registry, "tare", {"plate": "p1"})
    assert answer["error"]["code"] == "failed"
    assert "wait a second" in answer["error"]["message"]


def test_a_failed_save_during_tare_is_failed_not_invalid_params(registry: CommandRegistry, weigher: Weigher,
                                                                 tmp_path: Path) -> None:
    settle_on(weigher, [0.0, 0.0])
    before = weigher.calibration.channels
    (tmp_path / "calibration.json").mkdir()  # the rename over it fails like a full or read-only disk would
    answer = ask(registry, "tare", {})
    assert answer["error"]["code"] == "failed", answer
    assert "cannot save calibration" in answer["error"]["message"]
    assert weigher.calibration.channels == before  # nothing half-applied


def test_a_failed_save_during_calibrate_is_failed_too(registry: CommandRegistry, weigher: Weigher,
                                                      tmp_path: Path) -> None:
    settle_on(weigher, [500.0, 0.0])
    (tmp_path / "calibration.json").mkdir()
    answer = ask(registry, "calibrate", {"plate": "p1", "points": [[ZERO_G + 500.0, 500.0], [ZERO_G, 0.0]]})
    assert answer["error"]["code"] == "failed", answer
    assert "cannot save calibration" in answer["error"]["message"]


def test_calibrate_with_known_grams_uses_the_stable_reading(registry: CommandRegistry, weigher: Weigher) -> None:
    t = settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {"plate": "p1"})["ok"]
    t = settle_on(weigher, [510.0, 0.0], t0=t, seed=1)  # the plate reads 2% high
    answer = ask(registry, "calibrate", {"plate": "p1", "known_g": 500})
    assert answer["ok"], answer
    assert answer["result"] == {"plate": "p1", "points": 1, "residual_g": pytest.approx(0.0, abs=1e-6)}
    settle_on(weigher, [204.0, 0.0], t0=t, seed=2)
    assert weigher.stable_reading("p1") == pytest.approx(200.0, abs=0.5)


def test_calibrate_with_points_reports_the_residual(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [0.0, 0.0])
    answer = ask(registry, "calibrate", {"plate": "p2", "points": [[210.0, 0.0], [735.0, 500.0], [472.5, 251.0]]})
    assert answer["ok"], answer
    assert answer["result"]["points"] == 3
    assert 0.1 < answer["result"]["residual_g"] < 1.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"known_g": 500}, "params.plate must be one of"),
        ({"plate": "p1"}, "needs 'known_g'"),
        ({"plate": "p1", "known_g": "500"}, "known_g must be a number"),
        ({"plate": "p1", "known_g": True}, "known_g must be a number"),
        ({"plate": "p1", "points": []}, "non-empty list"),
        ({"plate": "p1", "points": [[1, 2, 3]]}, r"each point must be \[reading_g, known_g\]"),
        ({"plate": "p1", "points": [[100.0, 500.0], [100.0, 500.0]]}, "not distinct"),
        ({"plate": "p1", "known_g": 500, "points": [[210.0, 0.0]]}, "not both"),
    ],
)
def test_calibrate_refuses_bad_params_naming_them(registry: CommandRegistry, weigher: Weigher,
                                                  params: dict[str, Any], message: str) -> None:
    settle_on(weigher, [0.0, 0.0])
    answer = ask(registry, "calibrate", params)
    assert answer["error"]["code"] == "invalid_params", answer
    assert re.search(message, answer["error"]["message"]), answer["error"]["message"]


def test_calibrate_with_known_grams_on_a_moving_plate_fails(registry: CommandRegistry) -> None:
    answer = ask(registry, "calibrate", {"plate": "p1", "known_g": 500})
    assert answer["error"]["code"] == "failed"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([[1, 2]], [(1.0, 2.0)]),
        ([[0.5, 0], [100, 99.5]], [(0.5, 0.0), (100.0, 99.5)]),
    ],
)
def test_points_become_float_pairs(raw: Any, expected: list[tuple[float, float]]) -> None:
    points = parse_points(raw)
    assert points == expected
    assert all(type(v) is float for point in points for v in point)


@pytest.mark.parametrize("raw", [None, {}, [], [[1]], [[1, None]], [[True, 2]], [(1, 2)], ["1,2"], [[1, "2"]]])
def test_points_refuse_anything_but_number_pairs(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"params\.points"):
        parse_points(raw)


def test_weights_reports_grams_and_stability_per_plate(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [50.0, 0.0])
    result = ask(registry, "weights", {})["result"]
    assert result["shelf_stable"] is True
    assert set(result["plates"]) == {"p1", "p2"}
    p1 = result["plates"]["p1"]
    assert set(p1) == {"grams", "stable", "noise_sigma_g", "faulty_channels", "over_range"}
    assert p1["over_range"] is False
    assert p1["grams"] == pytest.approx(ZERO_G + 50.0, abs=1.0)
    assert p1["stable"] is True and p1["faulty_channels"] == []


def test_snapshot_without_a_camera_says_so(registry: CommandRegistry) -> None:
    answer = ask(registry, "snapshot", {})
    assert answer["error"]["code"] == "invalid_params"
    assert "no [camera]" in answer["error"]["message"]


def test_snapshot_fresh_and_stored(weigher: Weigher, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    stored = b"\xff\xd8\xff" + b"stored" + b"\xff\xd9"
    snapshot_id = store.save(stored, t=1.7e9)
    camera = StillCamera()
    registry = CommandRegistry()
    NodeCommands(weigher.plate_names, weigher, camera=camera, snapshots=store).register(registry)

    fresh = ask(registry, "snapshot", {})["result"]
    assert base64.b64decode(fresh["jpeg_base64"]) == JPEG and fresh["bytes"] == len(JPEG) and fresh["id"] is None
    assert camera.annotated == [True]

    by_id = ask(registry, "snapshot", {"event_snapshot": snapshot_id})["result"]
    assert base64.b64decode(by_id["jpeg_base64"]) == stored and by_id["id"] == snapshot_id

    missing = ask(registry, "snapshot", {"event_snapshot": "1700000000000-999999"})
    assert missing["error"]["code"] == "invalid_params" and "evicted or never taken" in missing["error"]["message"]
    not_a_string = ask(registry, "snapshot", {"event_snapshot": 5})
    assert "must be a snapshot id string" in not_a_string["error"]["message"]


def test_a_malformed_snapshot_id_is_invalid_params_not_an_internal_error(weigher: Weigher, tmp_path: Path) -> None:
    registry = CommandRegistry()
    commands = NodeCommands(weigher.plate_names, weigher, camera=StillCamera(),
                            snapshots=SnapshotStore(tmp_path / "snapshots"))
    commands.register(registry)
    answer = ask(registry, "snapshot", {"event_snapshot": "../calibration.json"})
    assert answer["error"]["code"] == "invalid_params", answer
    assert "malformed" in answer["error"]["message"]
    assert registry.internal_errors == 0


def test_an_oversized_snapshot_is_refused(weigher: Weigher, tmp_path: Path) -> None:
    registry = CommandRegistry()
    huge = StillCamera(b"\xff\xd8" + b"\x00" * MAX_SNAPSHOT_BYTES)
    NodeCommands(weigher.plate_names, weigher, camera=huge, snapshots=SnapshotStore(tmp_path / "s")).register(registry)
    answer = ask(registry, "snapshot", {})
    assert "over the 4000000 byte response limit" in answer["error"]["message"]


def test_state_commands_need_allow_state_commands(weigher: Weigher) -> None:
    registry = CommandRegistry(allow_state_commands=False)
    NodeCommands(weigher.plate_names, weigher).register(registry)
    settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {})["error"]["code"] == "refused"
    assert ask(registry, "calibrate", {"plate": "p1", "known_g": 1})["error"]["code"] == "refused"
    assert ask(registry, "weights", {})["ok"]


def test_undo_calibration_brings_back_the_file_the_last_tare_replaced(registry: CommandRegistry, weigher: Weigher,
                                                                        tmp_path: Path) -> None:
    t = settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {})["ok"]
    first = weigher.calibration.channels
    settle_on(weigher, [40.0, 0.0], t0=t, seed=1)
    assert ask(registry, "tare", {"plate": "p1"})["ok"]
    assert weigher.calibration.channels != first
    answer = ask(registry, "undo-calibration", {})
    assert answer["ok"], answer
    assert answer["result"] == {"restored": str(tmp_path / "calibration.json")}
    assert weigher.calibration.channels == first


def test_undo_without_a_previous_calibration_says_so(registry: CommandRegistry) -> None:
    answer = ask(registry, "undo-calibration", {})
    assert answer["error"]["code"] == "invalid_params"
    assert "no previous calibration" in answer["error"]["message"]


def test_reset_calibration_puts_one_plate_back_to_the_defaults(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [30.0, 30.0])
    assert ask(registry, "tare", {})["ok"]
    answer = ask(registry, "reset-calibration", {"plate": "p2"})
    assert answer["ok"] and answer["result"] == {"reset": "p2"}, answer
    assert weigher.calibration.channels[1].offset == 0.0  # p2 is channel 1: back to offset 0
    assert weigher.calibration.channels[0].offset != 0.0  # p1 keeps its tare
    assert ask(registry, "reset-calibration", {})["error"]["code"] == "invalid_params"


def test_confirm_board_before_the_mcu_said_who_it_is(registry: CommandRegistry) -> None:
    answer = ask(registry, "confirm-board", {})
    assert not answer["ok"] and "no MCU info frame seen yet" in answer["error"]["message"]


def test_confirm_board_keeps_the_calibration_for_the_new_board(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {})["ok"]
    weigher.observe_board("BOARD-A", "1.0")
    assert weigher.status().board_changed is None
    assert weigher.observe_board("BOARD-B", "1.0") is not None
    answer = ask(registry, "confirm-board", {})
    assert answer["ok"], answer
    assert answer["result"] == {"board": {"uid": "BOARD-B", "firmware": "1.0"}}
    assert weigher.status().board_changed is None
    assert weigher.status().board is not None and weigher.status().board.uid == "BOARD-B"


def test_every_calibration_change_is_announced(weigher: Weigher) -> None:
    changes: list[str] = []
    registry = CommandRegistry(allow_state_commands=True)
    NodeCommands(weigher.plate_names, weigher, on_calibration=lambda: changes.append("birth")).register(registry)
    settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {})["ok"]
    assert ask(registry, "calibrate", {"plate": "p1", "points": [[210.0, 0.0], [735.0, 500.0]]})["ok"]
    assert ask(registry, "reset-calibration", {"plate": "p1"})["ok"]
    assert ask(registry, "undo-calibration", {})["ok"]
    assert not ask(registry, "tare", {"plate": "nope"})["ok"]  # refused: nothing changed, nothing announced
    assert ask(registry, "weights", {})["ok"]
    assert changes == ["birth"] * 4


def test_an_absurd_fit_is_refused_and_changes_nothing(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [0.0, 0.0])
    assert ask(registry, "tare", {"plate": "p1"})["ok"]
    before = weigher.calibration.channels
    answer = ask(registry, "calibrate", {"plate": "p1", "points": [[0.001, 1000000]]})
    assert answer["error"]["code"] == "invalid_params", answer
    assert "beyond the plate's range" in answer["error"]["message"]
    answer = ask(registry, "calibrate", {"plate": "p1", "points": [[0.001, 1000]]})
    assert answer["error"]["code"] == "invalid_params", answer
    assert "outside what a load cell gives" in answer["error"]["message"]
    assert weigher.calibration.channels == before


@pytest.mark.parametrize(
    ("name", "params", "unknown"),
    [
        ("tare", {"plates": ["p1"]}, "plates"),  # the typo that tared every plate
        ("calibrate", {"plate": "p1", "known": 500}, "known"),
        ("reset-calibration", {"plate": "p1", "channels": [0]}, "channels"),
        ("undo-calibration", {"plate": "p1"}, "plate"),
        ("confirm-board", {"force": True}, "force"),
        ("weights", {"plate": "p1"}, "plate"),
        ("snapshot", {"id": "1700000000000-000001"}, "id"),
    ],
)
def test_unknown_params_are_refused_before_anything_changes(weigher: Weigher, tmp_path: Path, name: str,
                                                            params: dict[str, Any], unknown: str) -> None:
    registry = CommandRegistry(allow_state_commands=True)
    NodeCommands(weigher.plate_names, weigher, camera=StillCamera(),
                 snapshots=SnapshotStore(tmp_path / "snapshots")).register(registry)
    settle_on(weigher, [100.0, 100.0])
    before = weigher.calibration.channels
    answer = ask(registry, name, params)
    assert answer["error"]["code"] == "invalid_params", answer
    assert unknown in answer["error"]["message"], answer
    assert weigher.calibration.channels == before
    assert not (tmp_path / "calibration.json").exists()


def test_a_null_plate_does_not_mean_every_plate(registry: CommandRegistry, weigher: Weigher) -> None:
    settle_on(weigher, [100.0, 100.0])
    before = weigher.calibration.channels
    answer = ask(registry, "tare", {"plate": None})
    assert answer["error"]["code"] == "invalid_params", answer
    assert "leave it out for every plate" in answer["error"]["message"]
    assert weigher.calibration.channels == before
