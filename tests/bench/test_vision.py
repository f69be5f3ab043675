"""The vision benchmark's smoke mode runs end to end and reports typed figures (no timing asserted)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import vision


@pytest.mark.slow
def test_smoke_mode_reports_rates_cpu_and_idle(shared_model_dir: Path) -> None:
    result = vision.run("smoke", shared_model_dir)
    assert [(r.threads, r.resize) for r in result.rows] == [(1, "linear"), (2, "linear")]
    for row in result.rows:
        assert len(row.bare) == result.settings.rounds + 1 and len(row.pipe) == len(row.ratios) == 1
        assert all(rate > 0 for rate in (*row.bare, *row.pipe)) and row.ratio > 0
        assert row.cpu_detector > 0, "the pipeline CPU was accounted"
        assert all(cores >= 0 for cores in row.others) and len(row.quiet) <= result.settings.rounds
    names = [name for name, _ in result.decode_ms]
    assert names[0] == "opencv imdecode" and len(names) == 2 and all(ms > 0 for _, ms in result.decode_ms)
    assert result.idle.frames >= 2 and result.idle.detected == 0  # the camera ran, the detector stayed idle
    assert result.idle.mode == "idle" and not math.isnan(result.active_cpu)
    assert result.worst_linear_ratio == min(r.ratio for r in result.rows)
    text = vision.render_markdown(result)
    assert text.count("| linear |") == 2  # renders every row


def test_row_filters_and_missing_model(tmp_path: Path) -> None:
    assert vision.unavailable(tmp_path) is not None and str(tmp_path) in (vision.unavailable(tmp_path) or "")
    assert vision.BENCHMARK.quick["mode"] == "quick" and not vision.BENCHMARK.opt_in
