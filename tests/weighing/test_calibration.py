"""Calibration: least squares, rejections, tare, persistence across restarts, corrupt files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from edge.errors import CalibrationError, NotStableError
from edge.weighing import CalibrationStore, Weigher, fit_plate
from tests.weighing.signals import ZERO_G, frames, make_config, noisy, run, step, timeline

SPS = 40.0


def settle_on(weigher: Weigher, plates: list[float], seconds: float = 6.0, seed: int = 0, t0: float = 1.7e9) -> float:
    """Feed constant (noisy) plate grams; returns the time after the last frame."""
    rng = np.random.default_rng(seed)
    t = timeline(seconds, SPS, t0)
    run(weigher.config, frames(t, [noisy(np.full(t.shape, g), 0.5, rng) for g in plates]), weigher=weigher)
    return float(t[-1] + 1 / SPS)


def test_two_point_fit_is_exact_on_a_line() -> None:
    fit = fit_plate("p1", [(210.0, 0.0), (735.0, 500.0), (472.5, 250.0)])
    assert fit.scale_correction == pytest.approx(500 / 525)
    assert fit.zero_correction_g == pytest.approx(-200.0)
    assert fit.residual_g == pytest.approx(0.0, abs=1e-9)


def test_fit_reports_its_residual() -> None:
    fit = fit_plate("p1", [(0.0, 0.0), (100.0, 101.0), (200.0, 199.0)])
    assert fit.residual_g == pytest.approx(0.7071, abs=1e-3)  # residuals 0.5, -1, 0.5


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([], "no calibration points"),
        ([(100.0, 500.0), (100.0, 500.0)], "not distinct"),
        ([(100.0, 0.0), (200.0, -50.0)], "negative"),
        ([(0.0, 500.0)], "non-zero reading"),
        ([(50.0, 0.0)], "known weight > 0"),
        ([(100.0, 500.0), (200.0, 100.0)], "scale correction"),
        ([(float("nan"), 1.0)], "finite"),
    ],
)
def test_nonsense_points_are_rejected_with_a_reason(points: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        fit_plate("p1", points)


def test_tare_and_two_point_calibration_of_a_single_cell(tmp_path: Path) -> None:
    config = make_config(plates=1, state_dir=tmp_path)
    config = config.model_copy(update={"weighing": config.weighing.model_copy(update={"counts_per_gram": 400.0})})
    weigher = Weigher(config, CalibrationStore.in_state_dir(tmp_path))
    t = settle_on(weigher, [0.0])
    empty = weigher.stable_reading("p1")
    assert empty == pytest.approx(ZERO_G * 420 / 400, abs=0.5)  # 210, not 200: wrong until calibrated
    t = settle_on(weigher, [500.0], t0=t, seed=1)
    loaded = weigher.stable_reading("p1")
    residual = weigher.calibrate("p1", [(empty, 0.0), (loaded, 500.0)])
    assert residual < 0.2
    assert weigher.stable_reading("p1") == pytest.approx(500.0, abs=0.3)
    settle_on(weigher, [0.0], t0=t, seed=2)
    assert weigher.stable_reading("p1") == pytest.approx(0.0, abs=0.3)


def test_a_plate_of_two_cells_gets_one_common_correction(tmp_path: Path) -> None:
    config = make_config(plates=1, state_dir=tmp_path)
    config = config.model_copy(update={"plates": [config.plates[0].model_copy(update={"channels": [0, 1]})]})
    weigher = Weigher(config)
    t = settle_on(weigher, [0.0, 0.0])
    weigher.tare("p1")
    t = settle_on(weigher, [0.0, 0.0], t0=t, seed=3)
    assert weigher.stable_reading("p1") == pytest.approx(0.0, abs=0.3)
    # the cells read 2% high in sum: one known weight corrects the plate's common scale
    t = settle_on(weigher, [255.0 * 0.4, 255.0 * 0.6], t0=t, seed=4)
    reading = weigher.stable_reading("p1")
    weigher.calibrate("p1", [(reading, 250.0)])
    settle_on(weigher, [102.0 * 0.5, 102.0 * 0.5], t0=t, seed=5)
    assert weigher.stable_reading("p1") == pytest.approx(100.0, abs=0.3)
    scales = [c.counts_per_gram for c in weigher.calibration.channels[:2]]
    assert scales[0] == scales[1] == pytest.approx(420 * 1.02, rel=2e-3)


def test_tare_is_refused_while_the_plate_moves() -> None:
    config = make_config(plates=2)
    weigher = Weigher(config)
    rng = np.random.default_rng(5)
    t = timeline(10.1, SPS)
    p1 = noisy(300 + step(t, 9.9, 200, 1.0), 0.5, rng)
    run(config, frames(t, [p1, noisy(np.zeros(t.shape), 0.5, rng)]), weigher=weigher)
    with pytest.raises(NotStableError, match="'p1' is not stable"):
        weigher.tare("p1")
    with pytest.raises(NotStableError):
        weigher.tare()  # all plates: refused as a whole, nothing changed
    assert weigher.calibration.channels[1].offset == 0.0
    assert weigher.tare("p2") == {"p2": pytest.approx(ZERO_G, abs=0.3)}


def test_calibration_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(plates=2, state_dir=tmp_path)
    store = CalibrationStore.in_state_dir(tmp_path)
    first = Weigher(config, store)
    assert first.status().calibration == "defaults"
    settle_on(first, [0.0, 0.0])
    first.tare()
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]  # no temp file left behind
    second = Weigher(config, CalibrationStore.in_state_dir(tmp_path))
    assert second.calibration.channels == first.calibration.channels
    assert second.status().calibration == str(tmp_path / "calibration.json")
    settle_on(second, [0.0, 0.0], seed=9)
    assert second.stable_reading("p1") == pytest.approx(0.0, abs=0.3)


def test_missing_file_means_defaults_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        weigher = Weigher(make_config(plates=1, state_dir=tmp_path), CalibrationStore.in_state_dir(tmp_path))
    assert weigher.status().calibration == "defaults"
    assert "no calibration at" in caplog.text and "420 counts/g" in caplog.text


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"format": 1, "channels": []}),
        json.dumps({"format": 1, "channels": [{"offset": 0, "counts_per_gram": 0}]}),
        json.dumps({"format": 1, "channels": [{"offset": "x", "counts_per_gram": 420}]}),
        json.dumps([1, 2]),
        json.dumps({"format": 1, "channels": [{"offset": 0, "counts_per_gram": 420}], "plates": {"p1": 5}}),
        json.dumps({"format": 1, "channels": [{"offset": 0, "counts_per_gram": 420}], "board": "uid"}),
    ],
)
def test_a_corrupt_file_is_an_error_naming_it(tmp_path: Path, content: str) -> None:
    (tmp_path / "calibration.json").write_text(content)
    with pytest.raises(CalibrationError, match=r"calibration.json: calibration file is corrupt .*re-run tare"):
        Weigher(make_config(plates=1, state_dir=tmp_path), CalibrationStore.in_state_dir(tmp_path))
    assert (tmp_path / "calibration.json").read_text() == content  # never silently replaced


def test_a_read_only_store_refuses_to_save(tmp_path: Path) -> None:
    config = make_config(plates=1, state_dir=tmp_path)
    weigher = Weigher(config, CalibrationStore(tmp_path / "cal.json", read_only=True))
    settle_on(weigher, [0.0])
    with pytest.raises(CalibrationError, match="read-only"):
        weigher.tare()
