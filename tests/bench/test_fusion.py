"""A short fusion benchmark: simulator -> real parser + Weigher -> statistical camera -> every model -> scorer.
Asserts the pipeline and the metrics work, on the typed result (not timing, not the targets)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench import fusion
from bench.fusion_run import MODELS, one_run


@pytest.fixture(scope="module")
def result() -> fusion.FusionResult:
    return fusion.run(seeds=(101,), rates=(10.0,), interactions=60)


def test_short_benchmark_scores_every_model(result: fusion.FusionResult) -> None:
    assert result.models == MODELS and result.seeds == (101,) and result.seed_set == "tune"
    (run,) = result.runs
    assert run["interactions"] >= 60 and run["weight_events"] >= 50
    for name in MODELS:
        scored = run["models"][name]
        units = scored["units"]
        assert units["tp"] + units["fn"] >= 60  # every true unit is counted once, found or missed
        assert 0.0 <= units["f1"] <= 1.0 and 0.0 <= scored["ece"] <= 1.0
        assert scored["review"]["events"] > 0 and len(scored["times_ms"]) == run["weight_events"]
        assert [p["coverage"] for p in scored["risk_coverage"]] == [0.5, 0.8, 0.9, 0.95, 0.98, 1.0]
        assert sum(row["events"] for row in scored["reliability"]) == scored["review"]["events"]
    pooled = result.pooled[10.0]
    assert [pooled[n].flagged for n in ("aim3s", "autocheckout2020", "vision_only")] == [0, 0, 0]  # never abstain
    assert pooled["fused"].f1 > pooled["vision_only"].f1
    fused = result.fused(10.0)
    scored = run["models"]["fused"]
    assert fused.tp == scored["units"]["tp"] and fused.events == scored["review"]["events"]
    assert 0 < fused.time_median_ms <= fused.time_p95_ms


def test_result_is_frozen_and_renders(result: fusion.FusionResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.wall_s = 0.0  # type: ignore[misc]
    text = fusion.render_markdown(result)
    assert text.startswith("Seeds 101 (tune)") and "| fused |" in text  # renders without error, every model
    assert fusion.as_json(result)["pooled"]["10.0"]["fused"]["f1"] == result.fused(10.0).f1


def test_one_run_dumps_every_verdict(tmp_path: Path) -> None:
    run = one_run(102, 10.0, 20, tmp_path, ("fused",), dump=tmp_path)
    dumped = (tmp_path / "fused-102-10.jsonl").read_text().splitlines()
    assert len(dumped) == run["models"]["fused"]["review"]["events"] > 0


def test_quick_parameters_name_report_seeds_only() -> None:
    assert set(fusion.BENCHMARK.quick["seeds"]) <= set(fusion.SEEDS["report"])
    assert fusion.BENCHMARK.full["seeds"] == "report"


def test_both_mixes_run_and_render() -> None:
    result = fusion.run(seeds=(101,), rates=(10.0,), interactions=20, models=("fused",), mixes=("store", "stress"))
    assert result.mix == "store" and [o.mix for o in result.others] == ["stress"]
    assert result.runs[0]["mix_preset"] == "store" and result.others[0].runs[0]["mix_preset"] == "stress"
    assert result.runs[0]["planogram"] == result.others[0].runs[0]["planogram"]  # one shelf, two mixes
    text = fusion.render_markdown(result)
    assert "### store mix, 10 SPS" in text and "### stress mix, 10 SPS" in text
    assert "| weight_twin or count_twin |" in text
    assert fusion.as_json(result)["others"][0]["mix"] == "stress"
    with pytest.raises(ValueError, match="mix preset 'shop' unknown"):
        fusion.run(seeds=(101,), rates=(10.0,), interactions=5, models=("fused",), mixes=("shop",))


def test_fusion_time_comes_from_its_own_timing_pass(result: fusion.FusionResult) -> None:
    # scored in one pass, timed in another (bench.fusion_run.time_models): every model on every event again,
    # in turn, TIMING_PASSES times; the load average during the passes goes with the figure
    from bench.fusion_run import TIMING_PASSES

    (run,) = result.runs
    for name in MODELS:
        scored = run["models"][name]
        assert scored["timing_passes"] == TIMING_PASSES >= 3
        events = run["weight_events"]
        assert len(scored["times_ms"]) == len(scored["cpu_ms"]) == len(scored["scoring_times_ms"]) == events
        low, high, cores = scored["timing_load"]
        assert min(low, high) >= 0.0 and cores >= 1
    fused = result.fused(10.0)
    assert fused.scoring_p95_ms > 0 and fused.cpu_p95_ms > 0 and fused.timing_load[2] >= 1
    assert "a timing pass of its own after scoring" in fusion.render_markdown(result)
