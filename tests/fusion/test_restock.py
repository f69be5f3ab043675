"""A restock (maintenance mode) brings the plate's own SKUs, not a visitor a shopper left there (docs/fusion.md,
"Prior"; chosen on the tuning seeds, docs/bench/fusion.md, session 6)."""

from __future__ import annotations

from edge.fusion import FusionSettings
from edge.fusion.hypotheses import plate_candidates
from tests.fusion.helpers import DOCUMENT, T0, one, skus, stage


def test_a_restock_brings_the_plates_own_skus_not_a_visitor() -> None:
    fusion = stage()
    assert skus(one(fusion, {"p3": 150.4})) == [("CHIPS", 1)]  # a put-back leaves CHIPS on p3 as a visitor
    state = fusion._state
    chips = state.index["CHIPS"]
    restock = plate_candidates(state, ("p3",), 300.0, 0.5, FusionSettings(), T0 + 30, restock=True)
    put = plate_candidates(state, ("p3",), 300.0, 0.5, FusionSettings(), T0 + 30, restock=False)
    assert not [c for c in restock if any(k == chips for k, _ in c.lines)]
    assert [c for c in put if any(k == chips for k, _ in c.lines)]  # a shopper may put it back again


def test_a_restock_of_a_visitors_weight_is_answered_as_the_plates_own_sku() -> None:
    # 1 kg apples left on the juice plate (1 kg cartons) by a shopper; the clerk then restocks 4 kg: the
    # apples were a 4-way twin of the juice by weight, but nobody restocks a visitor
    fusion = stage()
    put = one(fusion, {"p4": 1028.3})
    assert skus(put) == [("APPLE-1KG", 1)] and put.misplaced
    fusion.set_maintenance(True)
    restock = one(fusion, {"p4": 4001.0}, t=30.0)
    assert restock.action == "restock" and skus(restock) == [("JUICE", 4)]
    assert not [alt for alt in restock.alternatives if any(line.sku == "APPLE-1KG" for line in alt.lines)]


def test_a_plate_holding_only_visitors_can_still_be_restocked_with_them() -> None:
    document = {**DOCUMENT, "plates": {**DOCUMENT["plates"], "p5": []}}  # p5 lives empty
    fusion = stage(document=document)
    assert skus(one(fusion, {"p5": 150.2})) == [("CHIPS", 1)]  # the only SKU p5 holds is a visitor
    fusion.set_maintenance(True)
    restock = one(fusion, {"p5": 450.4}, t=30.0)
    assert restock.action == "restock" and skus(restock) == [("CHIPS", 3)]
