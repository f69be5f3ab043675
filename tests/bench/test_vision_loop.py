"""The vision-in-the-loop benchmark: its shelf has the label-distinct weight twins the issue asks for, the
re-measured rates round-trip, and a tiny run through the real detector scores every mode on the same events
(skipped without ../shared). Not the targets, not timing."""

from __future__ import annotations

import dataclasses
from itertools import combinations
from pathlib import Path

import pytest

from bench import vision_loop, vision_loop_rates
from edge.sim.catalogue import weight_twins
from edge.sim.stat_camera import LookRates, measured_rates


def test_the_shelf_has_label_distinct_weight_twins_on_one_plate() -> None:
    items, slots = vision_loop.twin_shelf()
    by_sku = {item.sku: item for item in items}
    plates: dict[str, list[str]] = {}
    for slot in slots:
        plates.setdefault(slot.plate, []).append(slot.sku)
    twins = {frozenset((a, b)) for skus in plates.values() for a, b in combinations(skus, 2)
             if weight_twins(by_sku[a], by_sku[b]) and by_sku[a].labels and by_sku[b].labels
             and set(by_sku[a].labels) != set(by_sku[b].labels)}
    assert twins == {frozenset(("orange", "apple-large")), frozenset(("juice-1l", "carrots-1kg"))}


def test_re_measured_rates_round_trip_and_keep_what_was_not_measured(tmp_path: Path) -> None:
    base = measured_rates()
    family = "Bravo-Orange-Juice"
    changed = {**base.looks, family: LookRates("bottle", 0.5, (0.6, 0.7), {"cup": 0.25})}
    rates = dataclasses.replace(base, looks=changed, hand_seen=0.4)
    path = tmp_path / "rates.json"
    vision_loop_rates.save_rendered_rates(rates, path, crop_scale=2.0)
    loaded = vision_loop_rates.load_rendered_rates(path)
    assert loaded.looks[family] == changed[family] and loaded.hand_seen == 0.4
    assert loaded.no_look == base.no_look and loaded.false_per_s == base.false_per_s
    with pytest.raises(FileNotFoundError, match="--measure-rates"):
        vision_loop_rates.load_rendered_rates(tmp_path / "missing.json")


@pytest.mark.slow
def test_a_tiny_run_scores_every_mode_on_the_same_events(shared_model_dir: Path, shared_images_dir: Path) -> None:
    """With a teach phase too small for any splitter to be trusted, the appearance mode is rendered_crop's events
    again (an untrusted gallery changes nothing), and the teach phase labelled its crops on the tuning seed."""
    result = vision_loop.run(seeds=(401,), interactions=3, model=shared_model_dir, images=shared_images_dir,
                             teach_seeds=(301,), teach_interactions=6)
    (run,) = result.runs
    assert run.interactions >= 3 and run.weight_events >= 2 and run.frames > 0 and run.windows > 0
    events = {mode: score.review["events"] for mode, score in result.modes.items()}
    assert set(events) == set(vision_loop.MODES) and len(set(events.values())) == 1, events
    assert result.modes["weight_planogram"].review_rate >= result.modes["statistical"].review_rate - 1e-9
    crop, appearance = result.modes["rendered_crop"], result.modes["rendered_crop_appearance"]
    assert appearance.units == crop.units and appearance.review == crop.review
    score = result.appearance
    assert score is not None and score.teach is not None
    assert score.teach.seeds == (301,) and score.teach.split == "measure" and score.teach.item_events >= 4
    assert sum(score.teach.labelled.values()) == sum(score.teach.examples.values())
    assert score.votes == score.votes_untrusted == 0 and not any(trusted for _, _, _, trusted, _, _ in score.plates)
    assert {plate for plate, *_ in score.plates} == {"p1", "p2"}  # the two plates of weight twins
    text = vision_loop.render_markdown(result)
    assert all(f"| {mode} |" in text for mode in vision_loop.MODES) and "Pi 4" in text
    assert "judged on **rendered_crop**" in text and "Teach phase: tuning seeds 301" in text


def test_teaching_on_a_scored_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        vision_loop.run(seeds=(401,), teach_seeds=(401,))


def test_the_report_shows_the_appearance_mode_beside_the_target_row() -> None:
    from bench.vision_loop_report import AppearanceScore, ModeScore, SeedRun, TwinScore, VisionLoopResult
    from bench.vision_loop_teach import TeachResult

    units = {"tp": 9, "fp": 1, "fn": 1, "precision": 0.9, "recall": 0.9, "f1": 0.9}
    review = {"events": 10, "review_rate": 0.2, "precision_unflagged": 1.0, "unflagged": 8, "unflagged_wrong": 0}
    modes = {m: ModeScore(units, review) for m in vision_loop.MODES}
    settled = dict.fromkeys(vision_loop.MODES, 5) | {"rendered_crop_appearance": 8}
    twins = TwinScore(10, settled, dict.fromkeys(vision_loop.MODES, 0), 10, settled)
    teach = TeachResult((301, 302), "measure", 320, 330, {"auto": 100, "review": 40}, 1, 7,
                        {"orange": 30, "apple-large": 28}, 400.0)
    score = AppearanceScore(teach, (("p1", ("apple-large", "orange"), {"apple-large": 28, "orange": 30}, True, 1.0,
                                     0),), 4, 0, 6, 1, 5, (21.0, 30.0), (18.0, 25.0), 0.01, (2.0, 2.0, 2.0))
    result = VisionLoopResult((401, 402), "held_out", (SeedRun(401, 10, 10, 100, 100, 1000.0, 10.0, 10, 0, 1.0),),
                              modes, twins, 5.0, (1.0, 1.0, 1.0), 2.0, score)
    text = vision_loop.render_markdown(result)
    assert "judged on **rendered_crop** (COCO labels, the detector alone): twins settled 50%" in text
    assert "**rendered_crop_appearance**" in text and "twins settled 80% (+3 events" in text
    assert "| p1 | apple-large / orange | apple-large 28, orange 30 | yes | 1.000 | 0 |" in text
    assert "100 `auto`" in text and "40 `review`" in text and "median 21.0 ms, p95 30.0 ms wall" in text
