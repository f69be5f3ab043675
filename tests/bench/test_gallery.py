"""bench/gallery.py: the day labels crops as the node does (the reviewer's answer for a flagged event, the node's
own auto rule at calibrated confidence >= 0.999 for an accepted one, nothing otherwise), on constructed item
events and on a tiny simulated day; a tiny run's typed result (colour descriptors only, a few examples)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bench.gallery import BENCHMARK, GalleryResult, run
from bench.gallery_day import day_label, simulate_day, usable
from bench.gallery_tally import Tally, error_bound
from bench.gallery_world import (
    MIN_CONFIDENCE,
    PLATE_OF,
    PLATES,
    SOLO_OF,
    Example,
    Interaction,
    Looks,
    day_order,
    facings,
    judge,
)
from edge.model import ItemEvent, ItemLine
from edge.sim.camera.photos import TEACH

PICKED = "golden-182"
TWIN = "pink-lady-185"


def _event(sku: str, confidence: float, flagged: bool, plate: str = "p1") -> ItemEvent:
    return ItemEvent(t_start=10.0, t_end=11.5, action="pick", lines=(ItemLine(sku, 1, plate),), confidence=confidence,
                     misplaced=False, review_required=flagged, review_reasons=("twin",) if flagged else (),
                     alternatives=(), weight_events=(), changes=(), residual_g=0.3)


def _pick(plate: str = "p1") -> Interaction:
    return Interaction(PICKED, Example(PICKED, np.full(4, 0.5, np.float32), "x.jpg", 100), plate)


def test_the_node_threshold_is_the_configs() -> None:
    assert MIN_CONFIDENCE == 0.999


def test_a_flagged_event_is_labelled_by_the_reviewer() -> None:
    # fusion's answer is the twin, at a confidence past the threshold: flagged, so only the reviewer labels it
    outcome = judge(_pick(), "p1", [_event(TWIN, 0.9995, flagged=True)], 0.0)
    assert outcome.review and outcome.auto is None and not outcome.correct
    assert day_label(outcome) == (PICKED, "review")


def test_an_accepted_event_below_the_threshold_gives_no_label() -> None:
    outcome = judge(_pick(), "p1", [_event(PICKED, 0.998, flagged=False)], 0.0)
    assert not outcome.review and outcome.correct and outcome.auto is None
    assert day_label(outcome) == (None, "")


def test_an_accepted_event_at_the_threshold_labels_itself() -> None:
    outcome = judge(_pick("p5"), "p5", [_event(PICKED, 0.999, flagged=False, plate="p5")], 0.0)
    assert day_label(outcome) == (PICKED, "auto")
    assert day_label(judge(_pick("p5"), "p5", [_event(TWIN, 0.9999, False, "p5")], 0.0)) == (TWIN, "auto")


def test_no_item_event_goes_to_the_reviewer() -> None:
    outcome = judge(_pick(), "p1", [], 0.0)
    assert day_label(outcome) == (PICKED, "review")


def test_a_simulated_day_labels_by_the_rule(shared_images_dir: Path) -> None:
    looks = Looks(model=None, crops_per_event=1, cache=None)
    per_sku = {item.sku: looks.examples(item, TEACH, 14, 7) for _, pair in PLATES for item in pair}
    order = facings(day_order(per_sku, 7), 7, 0.5)
    assert {i.where for i in order} == set(PLATE_OF.values()) | set(SOLO_OF.values())
    for scope in ("plate", "any_plate"):
        day = simulate_day(order, scope, 7)
        assert len(day.outcomes) == len(order) == 14 * 8
        crops = [c for v in day.gallery.values() for c in v]
        flagged = [n for n, o in enumerate(day.outcomes, 1) if o.review]
        accepted_high = [n for n, o in enumerate(day.outcomes, 1) if not o.review and o.confidence >= MIN_CONFIDENCE]
        assert flagged and accepted_high  # solo apples the weight settles; everything else is flagged here
        assert sorted(c.event for c in crops) == sorted(flagged + accepted_high)
        for crop in crops:
            outcome = day.outcomes[crop.event - 1]
            assert crop.plate == outcome.plate == order[crop.event - 1].where
            if outcome.review:
                assert crop.source == "review" and crop.example.sku == crop.truth
            else:
                assert crop.source == "auto" and outcome.confidence >= MIN_CONFIDENCE
                assert crop.example.sku == outcome.answer
        # the twin plates' accepted events never reach 0.999: their own crops come from the reviewer alone
        twin_plates = {p for p, _ in PLATES}
        assert all(c.source == "review" for c in crops if c.plate in twin_plates)
        for plate, pair in PLATES:
            for item in pair:
                mine = usable(day.gallery, item.sku, plate, scope)
                assert all(c.plate == plate for c in mine) or scope == "any_plate"
                assert len(mine) == sum(c.plate == plate or scope == "any_plate" for c in day.gallery[item.sku])


def test_error_bound() -> None:
    assert error_bound(0, 0) is None
    assert error_bound(0, 300) == pytest.approx(1 - 0.05 ** (1 / 300), rel=1e-6)  # 1.0 %
    assert error_bound(1, 300) == pytest.approx(0.01572, abs=2e-4)
    assert Tally(10, 4, 6, 0) + Tally(5, 5, 0, 0) == Tally(15, 9, 6, 0)


def test_tiny_run(shared_images_dir: Path) -> None:
    result = run(seeds=[5, 6], day_per_sku=24, eval_per_sku=4, crops_per_event=1, backbone=False, cache=False)
    assert isinstance(result, GalleryResult) and dataclasses.is_dataclass(result)
    assert result.seeds == (5, 6) and [r.seed for r in result.runs] == [5, 6]
    assert [r.poison != () for r in result.runs] == [True, False]  # poisoning on the first seed only
    for scope in ("plate", "any_plate"):
        runs = result.scope(scope)
        assert len(runs) == 2
        for s in runs:
            assert s.day_events == 24 * 8
            assert [p.examples for p in s.curve] == [0, 10, 25, 50, 100]
            start = s.curve[0]
            assert start.reached and start.review_rate == 1.0 and start.votes == 0  # no gallery: all flagged
            assert start.events == 4 * 8
            assert not s.curve[-1].reached and s.curve[-1].events == 0  # 24 picks per SKU cannot give 100
            for p in s.curve:
                assert p.votes_untrusted == 0
                if p.reached and p.examples:
                    assert p.auto + p.review == p.examples * 8
                    assert p.tally() == p.tally(("p1", "p2", "p3")) + p.tally(("p4",))
        pooled, seeds = result.pooled(scope, 0)
        assert seeds == 2 and pooled.events == 2 * 4 * 8 and pooled.reviews == pooled.events
    # the node's scope leaves out the solo facings' crops; the other uses them
    assert all(s.labels_elsewhere > 0 for s in result.scope("plate"))
    assert all(s.labels_elsewhere == 0 for s in result.scope("any_plate"))
    text = BENCHMARK.render(result)
    assert "examples_from" in text and "guard off" in text
    assert BENCHMARK.name == "gallery" and BENCHMARK.unavailable() is None


def test_descriptor_cache_gives_the_same_looks(shared_images_dir: Path, tmp_path: Path) -> None:
    item = PLATES[0][1][0]
    first = Looks(model=None, crops_per_event=1, cache=tmp_path)
    described = first.examples(item, TEACH, 3, 11)
    assert first.cached == 0 and len(first.embed_ms) == 3 and len(list(tmp_path.glob("*.npz"))) == 1
    again = Looks(model=None, crops_per_event=1, cache=tmp_path)
    read = again.examples(item, TEACH, 3, 11)
    assert again.cached == 3 and not again.embed_ms
    assert [e.photo for e in read] == [e.photo for e in described]
    assert all(np.array_equal(a.descriptor, b.descriptor) for a, b in zip(read, described, strict=True))
    other = Looks(model=None, crops_per_event=2, cache=tmp_path)  # another key: described, not read
    other.examples(item, TEACH, 3, 11)
    assert other.cached == 0
