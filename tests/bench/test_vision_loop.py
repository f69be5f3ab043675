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
    result = vision_loop.run(seeds=(401,), interactions=3, model=shared_model_dir, images=shared_images_dir)
    (run,) = result.runs
    assert run.interactions >= 3 and run.weight_events >= 2 and run.frames > 0 and run.windows > 0
    events = {mode: score.review["events"] for mode, score in result.modes.items()}
    assert set(events) == set(vision_loop.MODES) and len(set(events.values())) == 1, events
    assert result.modes["weight_planogram"].review_rate >= result.modes["statistical"].review_rate - 1e-9
    text = vision_loop.render_markdown(result)
    assert all(f"| {mode} |" in text for mode in vision_loop.MODES) and "Pi 4" in text
