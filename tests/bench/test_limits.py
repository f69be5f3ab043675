"""The limits table from tiny versions of each measurement: every limit measured, against its baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import limits


@pytest.mark.slow
def test_every_limit_is_measured_against_its_baseline(shared_model_dir: Path, broker: object) -> None:
    result = limits.run(vision_rounds=1, parse_frames=2000, replay_interactions=20, drain_events=200, appends=10,
                        fusion_interactions=20, model=shared_model_dir)
    names = [limit.name for limit in result.limits]
    assert len(names) == 7 and names[0].startswith("detector pipeline, 1 thread")
    for limit in result.limits:
        assert limit.measured and limit.measured > 0 and limit.baseline and limit.baseline > 0, limit
        assert limit.ratio == limit.measured / limit.baseline
    assert result.get("fusion per event, p95").unit == "ms"
    assert limits.render_markdown(result).count("\n") == 2 + len(names)


def test_a_missing_part_is_reported_not_measured(tmp_path: Path) -> None:
    (detector, _) = limits.detector_limits(1, tmp_path)  # no model there
    assert detector.measured is None and detector.ratio is None and "no detection model" in detector.note
    assert "not measured" in limits.render_markdown(limits.LimitsResult((detector,)))
