"""`overlap`: another change on the same plate too close to this one (docs/fusion.md, "Review").

The weigher emits a heavy put up to 7 s late (docs/weighing.md, "Presses heavier than any item"), after
events on that plate that began when it had ended: those are not changes "before" it."""

from __future__ import annotations

from edge.fusion import FusionStage
from edge.model import ItemEvent, WeightEvent, WeightEventRef
from tests.fusion.helpers import T0, skus, stage


def feed(fusion: FusionStage, start: float, end: float, deltas: dict[str, float],
         flags: tuple[str, ...] = ()) -> list[ItemEvent]:
    event = WeightEvent(T0 + start, T0 + end, deltas, sum(deltas.values()), 0.5, "settled", flags)
    return fusion.on_weight_event(event, None, True, T0 + end + 0.1, WeightEventRef(f"ev-{start}", 1))


def test_a_held_put_reported_after_a_later_pick_is_not_an_overlap() -> None:
    fusion = stage()
    fusion.set_maintenance(True)
    pick = feed(fusion, 10.0, 11.0, {"p3": -32.0})  # a pick 4 s after the restock settled, reported first
    restock = feed(fusion, 0.0, 6.0, {"p3": 320.0}, ("held",))  # the held restock of 10 gum, 7 s late
    restock += fusion.flush()
    assert [i.review_reasons for i in pick] == [()]
    assert len(restock) == 1 and skus(restock[0]) == [("GUM", 10)]
    assert "overlap" not in restock[0].review_reasons


def test_a_held_put_close_to_a_change_reported_before_it_is_an_overlap() -> None:
    for start, end in ((6.1, 7.0), (3.0, 4.0), (-0.6, -0.1)):  # just after, during, just before the held put
        fusion = stage()
        feed(fusion, start, end, {"p3": -32.0})
        held = feed(fusion, 0.0, 6.0, {"p3": 320.0}, ("held",)) + fusion.flush()
        assert len(held) == 1 and held[0].review_required and "overlap" in held[0].review_reasons, (start, end)


def test_a_change_on_another_plate_is_no_overlap() -> None:
    fusion = stage()
    feed(fusion, 3.0, 4.0, {"p4": -1000.0})
    held = feed(fusion, 0.0, 6.0, {"p3": 320.0}, ("held",)) + fusion.flush()
    assert "overlap" not in held[0].review_reasons
