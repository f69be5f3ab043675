"""A weight event reported at a stop before it was decided as usual (`stopped_early`, docs/weighing.md) sends its
item event to review, even when it fits a SKU well."""

from __future__ import annotations

from tests.fusion.helpers import one, skus, stage


def test_a_weight_event_cut_short_by_a_stop_goes_to_review() -> None:
    usual = one(stage(), {"p3": -32.0})
    assert skus(usual) == [("GUM", 1)] and not usual.review_required
    early = one(stage(), {"p3": -32.0}, flags=("stopped_early",))
    assert skus(early) == [("GUM", 1)]
    assert early.review_required and "stopped_early" in early.review_reasons
