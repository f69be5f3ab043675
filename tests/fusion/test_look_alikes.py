"""A same-label twin living on the plate keeps the hard `twin` however sure the stock makes fusion (docs/fusion.md,
"Review"; the look-alike and visitor changes tried around it in session 5 are in docs/bench/fusion.md)."""

from __future__ import annotations

import copy
from typing import Any

from tests.fusion.helpers import DOCUMENT, catalogue_item, one, seen, skus, stage


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
