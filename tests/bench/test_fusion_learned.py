"""The learned-node fusion benchmark on a short run: the cold model is bench.fusion_run's fused on the same
events, the learned model's votes all rest on a passed leave-one-out check, same-label twins on trusted plates
get split, and descriptors reach only events where the camera was up (colour-only descriptors: no detector
invoke, so the run takes seconds; the backbone is checked on its own)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import fusion_learned
from bench.fusion_learned_world import Appearance, Pools, pools
from bench.fusion_run import one_run

SEED, SPS, INTERACTIONS, MIX, N, HELD_OUT = 201, 10.0, 100, "stress", 50, 10


def _without_times(scored: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scored.items() if "tim" not in k and "cpu" not in k}  # the figures, not the clock


def _key(descriptor: Any) -> tuple[float, ...]:
    return tuple(np.round(np.asarray(descriptor, np.float32), 5).tolist())


class Recording(Appearance):
    """The benchmark's hook, keeping what it gave the learned model (to check which events got a descriptor)."""

    def attach(self, seed: int, events: list, seen: list, *args: Any) -> Any:
        out, counts = super().attach(seed, events, seen, *args)
        self.given = (events, seen, out)
        return out, counts


@pytest.fixture(scope="module")
def colour_pools(shared_images_dir: Path) -> Pools:
    return pools(N, HELD_OUT, False)


@pytest.fixture(scope="module")
def runs(colour_pools: Pools, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, Recording]:
    tmp = tmp_path_factory.mktemp("fusion-learned")
    hook = Recording((N,), colour_pools)
    learned = one_run(SEED, SPS, INTERACTIONS, tmp, ("fused",), mix=MIX, more_models=hook.models)
    plain = one_run(SEED, SPS, INTERACTIONS, tmp, ("fused",), mix=MIX)
    return learned, plain, hook


def test_cold_model_is_fusion_runs_fused_on_the_same_events(runs: tuple[dict, dict, Recording]) -> None:
    learned, plain, _ = runs
    assert set(learned["models"]) == {"fused", f"fused_learned_{N}"}
    assert learned["weight_events"] == plain["weight_events"] > 0
    assert _without_times(learned["models"]["fused"]) == _without_times(plain["models"]["fused"])


def test_votes_rest_on_a_passed_check_and_split_same_label_twins(runs: tuple[dict, dict, Recording]) -> None:
    learned, _, hook = runs
    stats = hook.stats[(MIX, SPS, SEED)]["models"][f"fused_learned_{N}"]
    assert stats["trusted_plates"] and stats["votes"] > 0
    assert stats["votes_unchecked"] == 0
    # never a vote on a plate whose own check did not pass, not even across plates (issue 15)
    assert stats["votes_untrusted_plate"] == 0
    twins = stats["same_label"]
    assert twins["on_trusted"] > 0 and twins["voted"] > 0 and twins["unflagged_voted"] > 0
    cold, warm = learned["models"]["fused"], learned["models"][f"fused_learned_{N}"]
    assert cold["same_label_truth_flagged"] == cold["same_label_truth_events"] > 0  # the cold node flags them all
    assert warm["same_label_truth_flagged"] + twins["unflagged_voted"] == warm["same_label_truth_events"]
    assert warm["same_label_truth_flagged"] < cold["same_label_truth_flagged"]
    assert warm["reasons"].get("twin", 0) < cold["reasons"].get("twin", 0)


def test_descriptors_only_where_the_camera_was_up(runs: tuple[dict, dict, Recording], colour_pools: Pools) -> None:
    _, _, hook = runs
    events, seen, given = hook.given
    held_out = {_key(d) for look in colour_pools.families for d in colour_pools.held_out(look)}
    teach = {_key(d) for look in colour_pools.families for d in colour_pools.teach(look)}
    described = 0
    for (_, event), found, out in zip(events, seen, given, strict=True):
        if found is None:
            assert out is None
            continue
        for plate, evidence in out.items():
            assert dataclasses.replace(evidence, appearance=()) == found[plate]  # the labels are untouched
            if evidence.appearance:
                assert plate in event.plate_deltas
                key = _key(evidence.appearance)
                assert key in held_out and key not in teach
                described += 1
    assert described == hook.stats[(MIX, SPS, SEED)]["appearance"]["described"] > 0
    assert any(found is None for found in seen)  # the run has camera-down events


def test_result_pools_renders_and_is_frozen(colour_pools: Pools) -> None:
    result = fusion_learned.run(seeds=(SEED,), rates=(SPS,), interactions=60, mixes=(MIX,), examples=(N,),
                                held_out=HELD_OUT, backbone=False)
    (block,) = result.blocks
    cold, warm = block.model("fused"), block.model(f"fused_learned_{N}")
    assert cold.events == warm.events > 0 and cold.votes == 0 and warm.votes_unchecked == 0
    assert sum(row.events for row in cold.scenarios if row.tag != "none of these") > 0
    text = fusion_learned.render_markdown(result)
    assert "| fused |" in text and f"| fused_learned_{N} |" in text and "none of these" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.wall_s = 0.0  # type: ignore[misc]


def test_parameters_use_report_seeds_only() -> None:
    assert set(fusion_learned.BENCHMARK.quick["seeds"]) <= {201, 202, 203}
    assert fusion_learned.BENCHMARK.full["seeds"] == "report"


def test_backbone_descriptor(shared_model_dir: Path, shared_images_dir: Path) -> None:
    small = Pools(teach=2, held_out=2, backbone=True)
    teach, held = small.teach("Pink-Lady"), small.held_out("Pink-Lady")
    assert len(teach) == len(held) == 2 and small.looks.backbone
    assert teach[0].size > pools(N, HELD_OUT, False).teach("Pink-Lady")[0].size  # colour + backbone
    assert abs(float(np.linalg.norm(teach[0])) - 1.0) < 1e-4
    assert small.teach(None) == [] and small.held_out("no-such-family") == []
