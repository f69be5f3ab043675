"""The weighing benchmark's short run (real simulator, real parser, real Weigher) meets its floor, on the typed
result: accuracy above the baseline, a small CPU share, no event from drift."""

from __future__ import annotations

import math

import pytest

from bench import weighing
from bench.weighing_replay import plate_grams


@pytest.fixture(scope="module")
def result() -> weighing.WeighingResult:
    return weighing.run(**weighing.BENCHMARK.quick)


def test_quick_run_meets_its_floor(result: weighing.WeighingResult) -> None:
    run = result.at(80.0)
    assert run.interactions >= 150 and run.frames > 0 and run.simulated_h > 0
    assert run.weigher["f1"] >= 0.95 and run.weigher["f1"] > run.baseline["f1"]
    assert run.cpu.weigher_pct_of_core < 2.0 and run.cpu.weigher_us_per_frame > 0
    assert all(d.events == 0 for d in result.drift_only)
    assert [d.sps for d in result.drift_only] == [80.0]


def test_renders_both_detectors(result: weighing.WeighingResult) -> None:
    text = weighing.render_markdown(result)
    assert "| 80 | weigher |" in text and "| 80 | baseline |" in text


def test_plate_grams_sum_channels_and_miss_a_plate_with_a_missing_channel() -> None:
    plates = [[(0, 100.0, 2.0), (1, 0.0, 4.0)], [(2, 0.0, 1.0)]]
    assert plate_grams([300.0, 40.0, None], plates) == [110.0, None]
    assert math.isnan(weighing._moved(None, 1.0)) and weighing._moved(2.0, 5.5) == 3.5
