"""The weigher's trace excerpt reaches the item event's evidence (`trace_g`), per plate, on the schema."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge.fusion import item_event_to_dict
from edge.model import PlateTrace, WeightEventRef
from tests.fusion.helpers import T0, one, stage, weight_event
from tests.fusion.test_encode import envelope_problems


def trace(plate: str, t0: float, before: float, after: float, n: int = 40) -> PlateTrace:
    """n points from 0.4 s before t0 to 1.4 s after: `before`, a ramp, `after`."""
    points = []
    for i in range(n):
        at = t0 - 0.4 + 1.8 * i / (n - 1)
        share = min(max((at - t0) / 0.6, 0.0), 1.0)
        points.append((at, before + (after - before) * share))
    return PlateTrace(plate, tuple(points))


def test_an_item_event_carries_its_plates_trace_in_seconds_from_its_start() -> None:
    event = replace(weight_event({"p2": -1031.0}), traces=(trace("p2", T0, 2500.0, 1469.0),))
    fusion = stage()
    items = fusion.on_weight_event(event, None, False, T0 + 1.1, WeightEventRef("ev", 1)) + fusion.flush()
    body = item_event_to_dict(items[0])
    points = body["evidence"]["trace_g"]["p2"]
    assert list(body["evidence"]["trace_g"]) == ["p2"] and len(points) == 40
    assert points[0] == [-0.4, 2500.0] and points[-1] == [1.4, 1469.0]
    assert envelope_problems(body) == []


def test_a_pick_and_a_put_in_one_weight_event_each_carry_only_their_plates() -> None:
    fusion = stage()
    event = replace(weight_event({"p1": -1040.5, "p3": 400.0}),
                    traces=(trace("p1", T0, 3000.0, 1959.5), trace("p3", T0, 800.0, 1200.0)))
    items = fusion.on_weight_event(event, None, False, T0 + 1.1, WeightEventRef("ev", 1)) + fusion.flush()
    bodies = [item_event_to_dict(item)["evidence"] for item in items]
    assert sorted(list(evidence["trace_g"]) for evidence in bodies) == [["p1"], ["p3"]]
    assert all(list(evidence["trace_g"]) == list(evidence["plates"]) for evidence in bodies)


def test_neighbouring_weight_events_scored_as_one_item_carry_both_traces() -> None:
    fusion = stage()
    first = replace(weight_event({"p4": -600.0}, 40.0), traces=(trace("p4", T0 + 40.0, 900.0, 300.0),))
    second = replace(weight_event({"p5": -400.5}, 40.3), traces=(trace("p5", T0 + 40.3, 700.0, 299.5),))
    assert fusion.on_weight_event(first, None, True, T0 + 41.1) == []  # held for a neighbour
    (item,) = fusion.on_weight_event(second, None, True, T0 + 41.4)
    body = item_event_to_dict(item)
    assert set(body["evidence"]["trace_g"]) == {"p4", "p5"}
    assert body["evidence"]["trace_g"]["p5"][0][0] == pytest.approx(0.3 - 0.4)  # on the item's start (p4's)
    assert envelope_problems(body) == []


def test_without_a_trace_the_evidence_says_null_and_a_bad_one_is_refused_by_the_schema() -> None:
    item = one(stage(), {"p3": -400.0}, camera_ok=False)
    body = item_event_to_dict(item)
    assert body["evidence"]["trace_g"] is None and envelope_problems(body) == []
    body["evidence"]["trace_g"] = {"p3": [[0.0, 1.0, 2.0]]}
    assert envelope_problems(body)
    body["evidence"]["trace_g"] = {"p3": [[0.0, 1.0]] * 65}
    assert envelope_problems(body)
