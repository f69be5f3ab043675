"""Constructed cases with known answers (docs/fusion.md)."""

from __future__ import annotations

from edge.fusion import FusionSettings
from tests.fusion.helpers import DOCUMENT, T0, one, planogram, seen, skus, stage, weight_event


def test_weight_twin_resolved_by_vision() -> None:
    with_vision = one(stage(), {"p2": -1031.0}, seen("p2", carrot=0.7))
    without = one(stage(), {"p2": -1031.0}, seen("p2"))
    assert with_vision.action == "pick" and skus(with_vision) == [("CARROT-1KG", 1)]
    assert "twin" not in with_vision.review_reasons
    assert with_vision.confidence > 0.95 > without.confidence
    assert with_vision.vision["used"] and with_vision.vision["labels"] == {"carrot": 0.7}
    assert with_vision.snapshot == "snap-p2"


def test_weight_twin_without_vision_goes_to_review() -> None:
    item = one(stage(), {"p2": -1031.0}, seen("p2"))  # the camera works but saw no label
    assert item.review_required and "twin" in item.review_reasons
    assert {line.sku for alt in item.alternatives for line in alt.lines} >= {"APPLE-1KG", "CARROT-1KG"} - {
        item.lines[0].sku}
    assert not item.vision["used"]


def test_one_litre_against_two_half_litres_is_a_twin_the_camera_cannot_split() -> None:
    fusion = stage()
    item = one(fusion, {"p1": -1040.5}, seen("p1", bottle=0.8))  # both carry "bottle": no help
    assert item.review_required and "twin" in item.review_reasons
    answers = [skus(item)] + [[(line.sku, line.count) for line in alt.lines] for alt in item.alternatives]
    assert [("COLA-1L", 1)] in answers and [("COLA-05", 2)] in answers
    assert item.confidence < 0.99


def test_misplaced_put_back_then_picked_again_is_recognised() -> None:
    fusion = stage()
    put = one(fusion, {"p3": 150.4}, t=0.0)  # CHIPS lives on no plate; GUM would need 4.7 units
    assert put.action == "put" and skus(put) == [("CHIPS", 1)] and put.misplaced
    pick = one(fusion, {"p3": -150.2}, t=30.0)
    assert pick.action == "pick" and skus(pick) == [("CHIPS", 1)] and not pick.misplaced


def test_two_unit_pick_in_one_change() -> None:
    item = one(stage(), {"p3": -64.2})
    assert item.action == "pick" and skus(item) == [("GUM", 2)]
    assert not item.review_required and item.confidence > 0.995
    assert item.stock["p3"]["GUM"] == 38


def test_unknown_item_is_not_forced_onto_a_sku() -> None:
    item = one(stage(), {"p3": -400.0})
    assert item.action == "unknown" and item.lines == ()
    assert item.review_required and "unknown_item" in item.review_reasons


def test_camera_down_rests_on_weight_and_says_so() -> None:
    clear = one(stage(), {"p3": -32.1}, None, camera_ok=False)
    assert skus(clear) == [("GUM", 1)] and not clear.review_required
    assert clear.vision["camera"] == "down" and not clear.vision["used"]
    twin = one(stage(), {"p2": -1031.0}, None, camera_ok=False)
    assert twin.review_required and {"twin", "camera_unavailable"} <= set(twin.review_reasons)
    absent = one(stage(), {"p3": -32.1}, None, camera_ok=None)
    assert absent.vision["camera"] == "absent"


def test_item_across_two_plates_from_two_weight_events_is_one_item() -> None:
    fusion = stage()
    first = fusion.on_weight_event(weight_event({"p4": -600.0}, 0.0), None, True, T0 + 1.1)
    assert first == []  # fits nothing alone: held for a neighbour
    items = fusion.on_weight_event(weight_event({"p5": -400.5}, 0.3), None, True, T0 + 1.4)
    assert len(items) == 1
    item = items[0]
    assert skus(item) == [("JUICE", 1)] and item.lines[0].plates == ("p4", "p5")
    assert len(item.weight_events) == 2 and {c.plate for c in item.changes} == {"p4", "p5"}


def test_held_event_is_released_after_the_window() -> None:
    fusion = stage()
    assert fusion.on_weight_event(weight_event({"p4": -600.0}, 0.0), None, True, T0 + 1.1) == []
    assert fusion.poll(T0 + 1.5) == []
    released = fusion.poll(T0 + 1.0 + FusionSettings().neighbour_window_s)
    assert len(released) == 1 and released[0].review_required


def test_restock_in_maintenance_mode() -> None:
    fusion = stage()
    fusion.set_maintenance(True)
    item = one(fusion, {"p3": 320.2})
    assert item.action == "restock" and skus(item) == [("GUM", 10)]
    assert item.stock["p3"]["GUM"] == 50


def test_large_put_outside_maintenance_goes_to_review() -> None:
    item = one(stage(), {"p3": 128.1})  # 4 units of gum: a shopper rarely puts back that many
    assert item.action == "put" and skus(item) == [("GUM", 4)]
    assert item.review_required and "large_put" in item.review_reasons


def test_weight_event_flags_become_review_reasons() -> None:
    outage = one(stage(), {"p3": -32.0}, flags=("serial_outage",))
    assert outage.review_required and "serial_outage" in outage.review_reasons
    faulty = one(stage(), {"p3": -32.0}, quality="faulty_channel", flags=("faulty_channel:p3:5",))
    assert faulty.review_required and "faulty_channel" in faulty.review_reasons


def test_a_change_right_after_another_on_the_same_plate_is_an_overlap() -> None:
    fusion = stage()
    assert not one(fusion, {"p3": -32.0}, t=0.0).review_required
    second = one(fusion, {"p3": -32.0}, t=1.1)  # starts 0.1 s after the first settled
    assert second.review_required and "overlap" in second.review_reasons


def test_put_back_favours_the_sku_just_picked() -> None:
    fusion = stage()
    one(fusion, {"p2": -1031.0}, seen("p2", apple=0.7), t=0.0)  # the shopper took the apple
    back = one(fusion, {"p2": 1031.0}, seen("p2"), t=20.0)  # and puts a 1 kg item back, camera saw nothing
    assert skus(back) == [("APPLE-1KG", 1)]
    assert back.alternatives[0].lines[0].sku == "CARROT-1KG"


def test_unit_spread_is_learned_from_confident_events_and_floored() -> None:
    fusion = stage()
    for i in range(8):
        one(fusion, {"p3": -32.0 - 0.01 * (i % 2)}, t=10.0 * i)
    learned = fusion.status().learned_unit_sigma_g
    assert set(learned) == {"GUM"}
    assert learned["GUM"] == FusionSettings().min_unit_sigma_g  # residuals this small hit the floor


def test_status_reports_counters_and_stock() -> None:
    fusion = stage()
    one(fusion, {"p3": -32.0})
    one(fusion, {"p3": -400.0}, t=10.0)
    status = fusion.status()
    assert status.weight_events == 2 and status.item_events == 2 and status.reviews == 1
    assert status.stock["p3"] == {"GUM": 39} and status.planogram == {"id": "pg-test", "version": 1}
    assert status.to_json()["reasons"]["unknown_item"] == 1


def test_a_new_planogram_keeps_what_was_learned_and_restarts_stock() -> None:
    fusion = stage()
    for i in range(6):
        one(fusion, {"p3": -32.0}, t=10.0 * i)
    assert "GUM" in fusion.status().learned_unit_sigma_g
    fusion.set_planogram(planogram({**DOCUMENT, "version": 2}))
    status = fusion.status()
    assert status.planogram == {"id": "pg-test", "version": 2}
    assert status.stock["p3"] == {"GUM": 40} and "GUM" in status.learned_unit_sigma_g
