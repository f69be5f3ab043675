"""Constructed cases for put-back visitors and two-SKU picks (docs/fusion.md, "Prior"; chosen on the tuning
seeds, docs/bench/fusion.md): two-SKU picks follow stock; two look-alikes of one uncertain put-back are one
unit, never a pair; a restock is of the plate's own SKUs; a same-label twin on the plate keeps the hard `twin`."""

from __future__ import annotations

import copy
import math
from typing import Any

from edge.fusion import FusionSettings
from edge.fusion.hypotheses import Candidate, plate_candidates
from edge.fusion.shelf_state import ShelfState
from tests.fusion.helpers import DOCUMENT, PLATES, T0, catalogue_item, one, planogram, seen, skus, stage


def _document(*extra: dict[str, Any], plates: dict[str, Any] | None = None) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["catalogue"] += list(extra)
    document["plates"].update(plates or {})
    return document


JUICE_OTHER = catalogue_item("JUICE-OTHER", 1002.0, 5.0, ["carton"])  # looks and weighs like p4's JUICE


def test_a_same_label_twin_living_on_the_plate_forces_review() -> None:
    # The look-alike on the plate itself, with 40 units of JUICE against 1 of it: however sure the stock makes
    # fusion, the camera can never split them.
    document = _document(JUICE_OTHER, plates={"p4": [{"sku": "JUICE", "stock": 40},
                                                     {"sku": "JUICE-OTHER", "stock": 1}]})
    item = one(stage(document=document), {"p4": -1001.0}, seen("p4", carton=0.7))
    assert skus(item) == [("JUICE", 1)]
    assert item.review_required and "twin" in item.review_reasons


def _state(document: dict[str, Any]) -> ShelfState:
    return ShelfState.from_planogram(planogram(document), PLATES, 0.3, 5)


def _prior(candidates: list[Candidate], state: ShelfState, *lines: tuple[str, int]) -> float:
    wanted = tuple(sorted((state.index[sku], n) for sku, n in lines))
    (found,) = [c for c in candidates if c.lines == wanted and not c.misplaced]
    return math.exp(found.log_prior)


def test_a_two_sku_pick_follows_the_stock_of_both() -> None:
    # p2 holds 20 apples, 20 carrots and no chips: a grab of two SKUs takes apples and carrots far more often
    # than apples and chips ((20 + 2)(20 + 2) against (20 + 2)(0 + 2) with the pseudo-count), not evenly.
    document = _document(plates={"p2": [{"sku": "APPLE-1KG", "stock": 20}, {"sku": "CARROT-1KG", "stock": 20},
                                        {"sku": "CHIPS", "stock": 0}]})
    state, settings = _state(document), FusionSettings()
    both = plate_candidates(state, ("p2",), -2063.0, 0.5, settings, T0, restock=False)
    with_chips = plate_candidates(state, ("p2",), -1178.0, 0.5, settings, T0, restock=False)
    ratio = _prior(both, state, ("APPLE-1KG", 1), ("CARROT-1KG", 1)) / _prior(with_chips, state, ("APPLE-1KG", 1),
                                                                              ("CHIPS", 1))
    assert math.isclose(ratio, (22 * 22) / (22 * 2), rel_tol=1e-9)


WATER = catalogue_item("WATER-1L", 1001.0, 5.0, ["bottle"])
MILK = catalogue_item("MILK-1L", 1003.0, 5.0, ["bottle"])  # two bottles from elsewhere, one weight


def _after_uncertain_put_back() -> tuple[Any, ShelfState]:
    fusion = stage(document=_document(WATER, MILK))
    put = one(fusion, {"p3": 1002.0}, seen("p3", bottle=0.7))
    assert put.misplaced and put.review_required and "twin" in put.review_reasons
    return fusion, fusion._state


def test_two_look_alikes_of_one_uncertain_put_back_are_never_picked_together() -> None:
    # The put-back on p3 (40 GUM) was WATER, MILK or (further off by weight) JUICE: one unit of one of them
    # lies there, so no two-SKU pick takes two of them.
    _, state = _after_uncertain_put_back()
    members = set(state.visitors["p3"])
    assert {state.index["WATER-1L"], state.index["MILK-1L"]} <= members
    two_of_them = plate_candidates(state, ("p3",), -2004.0, 0.5, FusionSettings(), T0 + 30, restock=False)
    assert not [c for c in two_of_them if len(c.lines) == 2]
    with_gum = plate_candidates(state, ("p3",), -1034.0, 0.5, FusionSettings(), T0 + 30, restock=False)
    assert [c for c in with_gum if len(c.lines) == 2]  # one of them with GUM is a two-SKU pick


def test_a_restock_brings_the_plates_own_skus_not_a_visitor() -> None:
    fusion = stage()
    assert skus(one(fusion, {"p3": 150.4})) == [("CHIPS", 1)]  # a put-back leaves CHIPS on p3 as a visitor
    state = fusion._state
    chips = state.index["CHIPS"]
    restock = plate_candidates(state, ("p3",), 300.0, 0.5, FusionSettings(), T0 + 30, restock=True)
    put = plate_candidates(state, ("p3",), 300.0, 0.5, FusionSettings(), T0 + 30, restock=False)
    assert not [c for c in restock if any(k == chips for k, _ in c.lines)]
    assert [c for c in put if any(k == chips for k, _ in c.lines)]  # a shopper may put it back again
