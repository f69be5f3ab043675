"""A reviewer's answer to a flagged item event sets fusion's shelf state right (edge/fusion/answers.py):
stock follows the true lines, a foreign SKU put back becomes a visitor (the rival group goes), the plate's
own SKU takes the unit back; later events' changes stay; unknown, old or pre-planogram ids change nothing."""

from __future__ import annotations

import copy
from typing import Any

from edge.fusion import FusionSettings, FusionStage
from tests.fusion.helpers import DOCUMENT, catalogue_item, one, planogram, seen, skus, stage


def _document(p5: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """JUICE-OTHER weighs and looks like p4's JUICE and lives nowhere; WATER (a bottle) weighs 9 g less."""
    document = copy.deepcopy(DOCUMENT)
    document["catalogue"] += [catalogue_item("JUICE-OTHER", 1002.0, 5.0, ["carton"]),
                              catalogue_item("WATER", 992.0, 5.0, ["bottle"])]
    document["plates"]["p5"] = p5 or []
    return document


def _flagged_put(fusion: FusionStage, plate: str = "p5", event_id: str = "e-put") -> None:
    put = one(fusion, {plate: 1001.0}, seen(plate, carton=0.7))
    assert put.action == "put" and put.misplaced and put.review_required and "twin" in put.review_reasons
    assert fusion.remember_flagged(put, event_id)


def test_a_put_back_answered_as_a_foreign_sku_is_picked_later_as_an_ordinary_pick() -> None:
    # Left alone, both carton look-alikes wait on p5 as one group and the pick is a twin
    # (tests/fusion/test_tuned_cases.py); answered JUICE-OTHER, it is the one visitor there.
    fusion = stage(FusionSettings(foreign_pick_prior=0.0005), document=_document())
    _flagged_put(fusion)
    result = fusion.apply_review_answer("e-put", [("JUICE-OTHER", 1, None)], 0.0)
    assert result.applied and result.visitors == {"p5": ["JUICE-OTHER"]}
    assert result.stock == {"p5": {"JUICE-OTHER": 1}}
    pick = one(fusion, {"p5": -1001.0}, seen("p5", carton=0.7), t=30.0)
    assert skus(pick) == [("JUICE-OTHER", 1)] and pick.action == "pick" and not pick.misplaced
    assert not pick.review_required, pick.review_reasons
    assert fusion.status().stock.get("p5", {}) == {}  # its one unit left with the pick


def test_with_the_default_priors_the_answered_sku_is_named_and_only_an_unseen_put_back_remains() -> None:
    fusion = stage(document=_document())
    _flagged_put(fusion)
    assert fusion.apply_review_answer("e-put", [("JUICE-OTHER", 1, "p5")], 0.0).applied
    pick = one(fusion, {"p5": -1001.0}, seen("p5", carton=0.7), t=30.0)
    assert skus(pick) == [("JUICE-OTHER", 1)] and not pick.misplaced and pick.confidence > 0.99
    # JUICE is left only as a pick of a SKU not on p5 (foreign_pick_prior): a rival fusion's priors keep
    assert all(alt.misplaced for alt in pick.alternatives if alt.lines)


def test_a_put_back_answered_as_the_plates_own_sku_drops_the_rival_group() -> None:
    fusion = stage(document=_document([{"sku": "WATER", "stock": 3}]))
    _flagged_put(fusion)
    assert set(fusion.status().stock["p5"]) == {"WATER", "JUICE"}  # fusion wrote down its guess
    result = fusion.apply_review_answer("e-put", [("WATER", 1, None)], 0.0)
    assert result.applied and result.visitors == {"p5": []} and result.stock == {"p5": {"WATER": 4}}
    # a second answer replaces the first: the first answer's effect is taken back, not stacked
    again = fusion.apply_review_answer("e-put", [("JUICE-OTHER", 1, None)], 0.0)
    assert again.stock == {"p5": {"JUICE-OTHER": 1, "WATER": 3}} and again.visitors == {"p5": ["JUICE-OTHER"]}
    nothing = fusion.apply_review_answer("e-put", [], 0.0)  # nothing was put back: a bump
    assert nothing.stock == {"p5": {"WATER": 3}} and nothing.visitors == {"p5": []}


def test_stock_is_corrected_by_the_difference_and_later_changes_stay() -> None:
    fusion = stage()
    pick = one(fusion, {"p2": -1031.0}, camera_ok=None)  # apple or carrot: weight alone cannot tell
    assert pick.review_required and pick.stock["p2"] == {"APPLE-1KG": 3, "CARROT-1KG": 4}
    assert fusion.remember_flagged(pick, "e-pick")
    later = one(fusion, {"p1": -1040.0}, camera_ok=None, t=20.0)  # another plate, not answered
    assert fusion.status().stock["p1"] == later.stock["p1"]
    result = fusion.apply_review_answer("e-pick", [("CARROT-1KG", 2, None)], 0.0, action="pick")
    assert result.applied and result.stock == {"p2": {"APPLE-1KG": 4, "CARROT-1KG": 2}}
    assert fusion.status().stock["p1"] == later.stock["p1"]
    assert fusion.apply_review_answer("e-pick", [], 0.0).stock == {"p2": {"APPLE-1KG": 4, "CARROT-1KG": 4}}


def test_a_group_a_later_pick_took_is_not_brought_back() -> None:
    fusion = stage(FusionSettings(foreign_pick_prior=0.0005), document=_document())
    _flagged_put(fusion)
    one(fusion, {"p5": -1001.0}, seen("p5", carton=0.7), t=30.0)  # takes the whole group
    result = fusion.apply_review_answer("e-put", [("JUICE-OTHER", 1, None)], 0.0)
    assert result.applied and result.visitors == {"p5": []} and {"JUICE", "JUICE-OTHER"} <= set(result.left)


def test_an_unknown_old_or_pre_planogram_event_id_changes_nothing() -> None:
    fusion = stage(document=_document())
    fusion.answers.max_remembered = 2
    for i in range(3):
        item = one(fusion, {"p2": -1031.0}, camera_ok=None, t=10.0 * i)
        assert item.review_required and fusion.remember_flagged(item, f"e{i}")
    stock = fusion.status().stock
    unknown = fusion.apply_review_answer("e0", [("APPLE-1KG", 1, None)], 0.0)  # pushed out by e1, e2
    assert not unknown.applied and "unknown event id 'e0'" in unknown.message and "last 2 flagged" in unknown.message
    assert fusion.status().stock == stock
    assert not fusion.apply_review_answer("6f0c1d2e", [], 0.0).applied
    fusion.set_planogram(planogram(_document()))
    stale = fusion.apply_review_answer("e2", [], 0.0)
    assert not stale.applied and "planogram changed" in stale.message
    assert fusion.answers.counts == {"applied": 0, "unknown": 2, "stale": 1}


def test_an_item_fusion_did_not_make_is_not_remembered() -> None:
    fusion = stage()
    other = one(stage(), {"p2": -1031.0}, camera_ok=None)
    assert not fusion.remember_flagged(other, "e-x") and len(fusion.answers) == 0


def test_nothing_moved_leaves_the_state_as_if_fusion_had_never_seen_the_event() -> None:
    answered, never = stage(document=_document()), stage(document=_document())
    flagged = one(answered, {"p2": -1031.0}, camera_ok=None)
    put = one(answered, {"p5": 1001.0}, seen("p5", carton=0.7), t=5.0)
    assert flagged.review_required and put.review_required
    assert answered.remember_flagged(flagged, "e-pick") and answered.remember_flagged(put, "e-put")
    for fusion in (answered, never):  # later events the reviewer says nothing about
        one(fusion, {"p1": -1040.0}, seen("p1", bottle=0.8), t=20.0)
        one(fusion, {"p2": -1028.0}, seen("p2", apple=0.8), t=40.0)
    assert answered.status().stock != never.status().stock
    assert answered.apply_review_answer("e-pick", [], 0.0).applied
    assert answered.apply_review_answer("e-put", [], 0.0).applied
    assert answered.status().stock == never.status().stock
    a, b = answered._state, never._state
    assert {p: v for p, v in a.visitors.items() if v} == {p: v for p, v in b.visitors.items() if v}
    assert a.contents == b.contents and list(a.recent_picks) == list(b.recent_picks)
