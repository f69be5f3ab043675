"""Issue 11 #2, #4, #18: absurd fits refused, plates beyond their range flagged, the previous calibration kept,
undo and reset, a corrupt file called corrupt, and a board change flagged until a technician confirms it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from edge.errors import CalibrationError
from edge.weighing import CalibrationStore, Weigher
from edge.weighing.calibration import Board
from tests.weighing.signals import frames, make_config, noisy, run, step, timeline
from tests.weighing.test_calibration import SPS, settle_on


def tared_plate(tmp_path: Path, extra: str = "") -> tuple[Weigher, float]:
    weigher = Weigher(make_config(plates=1, state_dir=tmp_path, extra=extra), CalibrationStore.in_state_dir(tmp_path))
    t = settle_on(weigher, [0.0])
    weigher.tare("p1")
    return weigher, settle_on(weigher, [0.0], t0=t, seed=3)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(0.001, 1_000_000.0)], r"known weight 1e\+06 g is beyond the plate's range \(max_g = 30000 g\)"),
        ([(0.001, 1000.0)], r"gives 0.00042 counts/g, outside what a load cell gives \(0.5..200000"),
        ([(1000.0, 1.0)], r"gives 4.2e\+05 counts/g, outside"),
        ([(0.0, 0.0), (100.0, 100.0 + 40_000)], r"beyond the plate's range"),
        ([(10.0, 0.0), (110.0, 100.0)], None),  # a zero correction of -10 g: fine
        ([(-26_000.0, 5_000.0), (-25_900.0, 5_100.0)], r"moves the plate's zero by 31000 g"),
    ],
)
def test_absurd_fits_are_refused_with_a_hint(tmp_path: Path, points: list[tuple[float, float]],
                                            message: str | None) -> None:
    weigher, _ = tared_plate(tmp_path, extra="")
    before = weigher.calibration
    if message is None:
        weigher.calibrate("p1", points)
        return
    with pytest.raises(CalibrationError, match=message) as caught:
        weigher.calibrate("p1", points)
    assert "plate 'p1'" in str(caught.value)
    assert weigher.calibration == before  # nothing changed, nothing saved
    assert "scale_correction" not in (tmp_path / "calibration.json").read_text()


def test_a_calibrated_plate_moves_by_at_most_2x_until_reset(tmp_path: Path) -> None:
    weigher, t = tared_plate(tmp_path)
    weigher.calibrate("p1", [(100.0, 105.0)])  # first calibration: any plausible scale
    with pytest.raises(CalibrationError, match=r"would change its scale x3 .*calibration reset p1"):
        weigher.calibrate("p1", [(100.0, 300.0)])
    weigher.reset_calibration("p1")
    assert weigher.calibration.channels[0].counts_per_gram == 420.0 and "p1" not in weigher.calibration.plate_fits
    settle_on(weigher, [0.0], t0=t, seed=4)  # the plate warms up again after the reset
    weigher.tare("p1")
    weigher.calibrate("p1", [(100.0, 300.0)])  # from scratch: allowed
    assert weigher.calibration.channels[0].counts_per_gram == pytest.approx(140.0)


def test_a_grams_source_has_its_own_band(tmp_path: Path) -> None:
    from edge.weighing.calibration import ChannelCalibration as C
    from edge.weighing.calibration import PlateFit, check_fit

    fit = PlateFit("p1", 8.0, 0.0, 0.0, 1)
    with pytest.raises(CalibrationError, match=r"grams per gram \(the sketch sends grams\)"):
        check_fit(fit, [C(0.0, 1 / 8)], [(10.0, 80.0)], calibrated=False, grams_source=True, max_g=1000.0)
    check_fit(fit, [C(0.0, 420 / 8)], [(10.0, 80.0)], calibrated=False, grams_source=False, max_g=1000.0)


def test_each_save_keeps_the_previous_file_and_undo_swaps_them(tmp_path: Path) -> None:
    weigher, _ = tared_plate(tmp_path)
    store = CalibrationStore.in_state_dir(tmp_path)
    tared = (tmp_path / "calibration.json").read_bytes()
    weigher.calibrate("p1", [(100.0, 102.0)])
    calibrated = (tmp_path / "calibration.json").read_bytes()
    assert store.prev_path.read_bytes() == tared
    assert weigher.undo_calibration() == str(store.path)
    assert (tmp_path / "calibration.json").read_bytes() == tared and store.prev_path.read_bytes() == calibrated
    assert "p1" not in weigher.calibration.plate_fits and weigher.status().plates["p1"].state == "warmup"
    store.undo(8, 420.0)  # again: redo
    assert (tmp_path / "calibration.json").read_bytes() == calibrated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.json", "calibration.json.prev"]


def test_undo_without_a_previous_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="no previous calibration"):
        CalibrationStore.in_state_dir(tmp_path).undo(8, 420.0)


def test_json_nested_too_deeply_is_called_corrupt_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text("[" * 100_000 + "]" * 100_000)  # RecursionError in json.loads
    with pytest.raises(CalibrationError, match=r"calibration file is corrupt .*nested too deeply"):
        CalibrationStore.in_state_dir(tmp_path).load(8, 420.0)
    (tmp_path / "calibration.json").write_text('{"format": ' + "9" * 5000 + "}")  # int() refused it: traceback
    with pytest.raises(CalibrationError, match=r"calibration file is corrupt .*more than 4300 digits"):
        CalibrationStore.in_state_dir(tmp_path).load(8, 420.0)


def test_random_bytes_are_called_corrupt_with_what_to_do(tmp_path: Path) -> None:
    noise = bytes(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8))
    (tmp_path / "calibration.json").write_bytes(noise)
    with pytest.raises(CalibrationError) as caught:
        CalibrationStore.in_state_dir(tmp_path).load(8, 420.0)
    message = str(caught.value)
    assert "calibration file is corrupt" in message and "re-run tare" in message and "mv " in message
    assert "permission" not in message
    (tmp_path / "calibration.json.prev").write_text(json.dumps({"format": 1, "channels": [{"offset": 1,
                                                                                           "counts_per_gram": 2}]}))
    with pytest.raises(CalibrationError, match=r"`shelf-node calibration undo` restores the previous one"):
        CalibrationStore.in_state_dir(tmp_path).load(8, 420.0)


def test_saving_over_a_corrupt_file_keeps_it_aside_not_over_the_good_previous(tmp_path: Path) -> None:
    store = CalibrationStore.in_state_dir(tmp_path)
    store.prev_path.write_text('{"format": 1, "channels": [{"offset": 1, "counts_per_gram": 2}]}')
    store.path.write_bytes(b"\xff\x00garbage")
    from edge.weighing.calibration import Calibration

    store.save(Calibration.defaults(8, 420.0))
    assert store.corrupt_path.read_bytes() == b"\xff\x00garbage"
    assert "counts_per_gram" in store.prev_path.read_text()


def test_a_plate_beyond_its_range_flags_the_event_and_the_plate() -> None:
    config = make_config(plates=2, extra="")
    config = config.model_copy(update={"plates": [config.plates[0].model_copy(update={"max_g": 1000.0}),
                                                  config.plates[1]]})
    rng = np.random.default_rng(20)
    t = timeline(30, SPS)
    p1 = noisy(300 + step(t, 10.0, 900.0), 0.5, rng)  # 200 g tray + 300 g, then 900 g more: 1400 g > 1000 g
    p2 = noisy(400 + step(t, 20.0, 100.0), 0.5, rng)
    weigher = Weigher(config)
    events = run(config, frames(t, [p1, p2]), weigher=weigher)
    assert [sorted(e.plate_deltas) for e in events] == [["p1"], ["p2"]]
    assert "over_range:p1" in events[0].flags and not any("over_range" in f for f in events[1].flags)
    status = weigher.status()
    assert status.plates["p1"].over_range and not status.plates["p2"].over_range
    assert status.to_json()["plates"]["p1"]["over_range"] is True


def test_a_board_change_is_flagged_until_a_tare_and_survives_a_restart(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(plates=1, state_dir=tmp_path)
    weigher = Weigher(config, CalibrationStore.in_state_dir(tmp_path))
    assert weigher.observe_board("A1", "fw-1") is None  # defaults: nothing to protect, remembered
    t = settle_on(weigher, [0.0])
    weigher.tare("p1")  # made with board A1
    assert CalibrationStore.in_state_dir(tmp_path).load(8, 420.0).board == Board("A1", "fw-1")
    with caplog.at_level(logging.WARNING):
        change = weigher.observe_board("B2", "fw-1")
    assert change is not None and change.seen == Board("B2", "fw-1") and change.calibrated_with.uid == "A1"
    assert "is not the board the calibration was made with" in caplog.text
    rng = np.random.default_rng(21)
    lines = timeline(20, SPS, t0=t)
    events = run(config, frames(lines, [noisy(step(lines, 5.0, 250.0), 0.5, rng)]), weigher=weigher)
    assert len(events) == 1 and "board_changed" in events[0].flags
    assert weigher.status().to_json()["board_changed"] == {"calibrated_with": {"uid": "A1", "firmware": "fw-1"},
                                                           "seen": {"uid": "B2", "firmware": "fw-1"}}
    restarted = Weigher(config, CalibrationStore.in_state_dir(tmp_path))  # the node restarted with board B2
    assert restarted.observe_board("B2", "fw-1") is not None
    assert restarted.confirm_board() == Board("B2", "fw-1")
    assert restarted.status().board_changed is None and restarted.status().board == Board("B2", "fw-1")
    assert Weigher(config, CalibrationStore.in_state_dir(tmp_path)).observe_board("B2", "fw-1") is None
    weigher.tare("p1")  # a tare with the new board confirms it too
    assert weigher.status().board_changed is None


def test_an_old_file_without_a_board_records_the_first_one_seen(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"format": 1, "channels": [{"offset": 0, "counts_per_gram": 420}] * 8, "plates": {}}))
    config = make_config(plates=1, state_dir=tmp_path)
    assert Weigher(config, CalibrationStore.in_state_dir(tmp_path)).observe_board("A1", "fw-1") is None
    assert json.loads((tmp_path / "calibration.json").read_text())["board"] == {"uid": "A1", "firmware": "fw-1"}
    assert Weigher(config, CalibrationStore.in_state_dir(tmp_path)).observe_board("C3", "fw-1") is not None


def test_confirm_board_needs_a_board() -> None:
    with pytest.raises(CalibrationError, match="no MCU info frame seen yet"):
        Weigher(make_config(plates=1)).confirm_board()


def test_a_grams_source_is_never_saturated_but_a_huge_reading_is_over_range() -> None:
    from edge.config import parse_config
    from edge.model import WeightFrame

    config = parse_config('[node]\nstore_id = "s1"\nnode_id = "n1"\n[serial]\nport = "loop://"\nprotocol = "plain"\n'
                          'plain_units = "grams"\nchannels = 2\n[[plates]]\nname = "p1"\nchannels = [0]\n'
                          '[[plates]]\nname = "p2"\nchannels = [1]\n')
    weigher = Weigher(config)
    for k in range(200):
        weigher.feed(WeightFrame(t=1.7e9 + k / 40, counts=(9_000_000.0 + (k % 3), 250.0 + (k % 2))))
    status = weigher.status()
    assert [c.saturated_frames for c in status.channels] == [0, 0]  # grams have no ADC rail
    assert status.plates["p1"].faulty_channels == () and status.plates["p1"].grams == pytest.approx(9e6, abs=3)
    assert status.plates["p1"].over_range and not status.plates["p2"].over_range
