"""The appearance vote in fusion: a same-label twin the splitter splits is resolved and accepted; below the
splitter's trust, or without a crop descriptor, or with the camera down, it stays a `twin` for review."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from edge.fusion.appearance_factor import AppearanceSettings
from edge.model import PlateEvidence
from edge.vision.appearance_splitter import AppearanceSplitter
from tests.fusion.helpers import DOCUMENT, catalogue_item, one, skus, stage

DIM = 12


def _document() -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["catalogue"] += [catalogue_item("GALA", 182.0, 1.5, ["apple"]),
                              catalogue_item("PINK", 182.0, 1.5, ["apple"])]
    document["plates"]["p5"] = [{"sku": "GALA", "stock": 20}, {"sku": "PINK", "stock": 20}]
    return document


def _looks(axis: int, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM)
    base[axis] = 1.0
    rows = base + rng.normal(0, 0.1, (n, DIM))
    return [(r / np.linalg.norm(r)).astype(np.float32) for r in rows]


def _evidence(axis: int, with_descriptor: bool = True) -> dict[str, PlateEvidence]:
    descriptor = tuple(float(v) for v in _looks(axis, 1, 77)[0]) if with_descriptor else ()
    return {"p5": PlateEvidence("p5", {"apple": (0.9, 0.8)}, 20, True, "snap", descriptor)}


def _fusion(examples: int) -> Any:
    fusion = stage(document=_document())
    fusion.appearance = AppearanceSplitter({"p5": {"GALA": _looks(0, examples, 1), "PINK": _looks(1, examples, 2)}})
    return fusion


def test_without_a_splitter_a_same_label_twin_goes_to_review() -> None:
    item = one(stage(document=_document()), {"p5": -182.2}, _evidence(1))
    assert item.review_required and "twin" in item.review_reasons


@pytest.mark.parametrize("axis,expected", [(0, "GALA"), (1, "PINK")])
def test_a_trusted_splitter_resolves_the_twin(axis: int, expected: str) -> None:
    item = one(_fusion(60), {"p5": -182.2}, _evidence(axis))
    assert skus(item) == [(expected, 1)]
    assert not item.review_required, item.review_reasons
    vote: Any = item.vision["appearance"]
    assert vote["sku"] == expected and vote["candidates"] == ["GALA", "PINK"]
    assert item.alternatives and item.alternatives[0].lines[0].sku != expected


def test_below_its_trust_threshold_the_splitter_abstains() -> None:
    fusion = _fusion(5)  # fewer than min_examples: the leave-one-out check cannot pass
    report = fusion.appearance.reports()[0]
    assert not report.trusted
    item = one(fusion, {"p5": -182.2}, _evidence(1))
    assert item.review_required and "twin" in item.review_reasons
    assert "appearance" not in item.vision


def test_no_descriptor_or_camera_down_changes_nothing() -> None:
    no_crop = one(_fusion(60), {"p5": -182.2}, _evidence(1, with_descriptor=False))
    assert no_crop.review_required and "twin" in no_crop.review_reasons
    down = one(_fusion(60), {"p5": -182.2}, None, camera_ok=False)
    assert down.review_required and "appearance" not in down.vision


def test_a_weak_temper_keeps_the_twin() -> None:
    fusion = _fusion(60)
    fusion.appearance_settings = AppearanceSettings(temper=0.3)  # ratio 99**0.3 = 4 < twin_ratio 20
    item = one(fusion, {"p5": -182.2}, _evidence(1))
    assert skus(item) == [("PINK", 1)]
    assert item.review_required and "twin" in item.review_reasons


def test_the_vote_never_overrules_the_weight_on_other_plates() -> None:
    fusion = _fusion(60)
    item = one(fusion, {"p3": -32.1}, {"p3": PlateEvidence("p3", {}, 20, True, None, tuple(_looks(1, 1, 5)[0]))})
    assert skus(item) == [("GUM", 1)] and "appearance" not in item.vision


def _with_rival(sku: str, grams: float, labels: list[str], plate: str | None) -> Any:
    """The trusted GALA/PINK splitter of p5 on a shelf with one more SKU that has no examples anywhere."""
    document = _document()
    document["catalogue"].append(catalogue_item(sku, grams, 1.5, labels))
    if plate is not None:
        document["plates"][plate].append({"sku": sku, "stock": 20})
    fusion = stage(document=document)
    fusion.appearance = AppearanceSplitter({"p5": {"GALA": _looks(0, 60, 1), "PINK": _looks(1, 60, 2)}})
    return fusion


def test_an_example_less_same_label_rival_keeps_the_twin() -> None:
    # FUJI looks like the others to the labels and the weight, but the splitter has never seen it: its vote
    # between GALA and PINK cannot say the crop is not a FUJI, so it is not applied at all.
    item = one(_with_rival("FUJI", 182.0, ["apple"], "p5"), {"p5": -182.2}, _evidence(1))
    assert item.review_required and "twin" in item.review_reasons
    assert "appearance" not in item.vision


def test_an_example_less_foreign_rival_keeps_the_event_in_review() -> None:
    # The open-set miss of the learned-node benchmark: a foreign SKU put back unseen, with other labels and
    # no examples, stays plausible by weight (the camera saw no label). Voting GALA against PINK alone
    # would accept PINK at ~0.97 over an answer the splitter cannot rule out.
    evidence = {"p5": PlateEvidence("p5", {}, 20, True, "snap", _evidence(1)["p5"].appearance)}
    item = one(_with_rival("RADISH", 182.0, ["carrot"], None), {"p5": -182.2}, evidence)
    assert any(a.lines and a.lines[0].sku == "RADISH" for a in item.alternatives)
    assert item.review_required and "twin" in item.review_reasons
    assert "appearance" not in item.vision


def test_an_example_less_sku_the_weight_rules_out_does_not_stop_the_vote() -> None:
    evidence = {"p5": PlateEvidence("p5", {}, 20, True, "snap", _evidence(1)["p5"].appearance)}
    item = one(_with_rival("RADISH", 300.0, ["carrot"], None), {"p5": -182.2}, evidence)
    assert skus(item) == [("PINK", 1)]
    assert not item.review_required, item.review_reasons
    vote: Any = item.vision["appearance"]
    assert vote["candidates"] == ["GALA", "PINK"]
