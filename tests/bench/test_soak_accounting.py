"""bench/soak_accounting.py: interactions against hub events (one to one, merged, lost; the daemon's shifted
clock undone; item events found by reference or, unlinked, by their change), and the growth fit."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from bench.soak_accounting import account, t_quantile_975, trend
from edge.sim.truth import TruthRecord

T0 = 1_800_000_000.0


def pick(ident: int, at: float, plate: str = "p1", grams: float = -300.0) -> TruthRecord:
    return TruthRecord(ident, "pick", T0 + at, T0 + at + 1.5, {plate: grams}, "rice", 1, True, "")


def weight(event_id: str, at: float, plate: str = "p1", grams: float = -300.0, offset: float = 0.0) -> dict[str, Any]:
    start = T0 + at + offset
    return {"kind": "weight", "event_id": event_id, "body": {
        "plates": [plate], "plate_deltas_g": {plate: grams}, "t_start_unix": start, "t_end_unix": start + 2.0,
        "flags": []}}


def item(weight_event: dict[str, Any] | None, sku: str = "rice", reviewed: bool = False,
         event_id: str | None = None) -> dict[str, Any]:
    body = (weight_event or {}).get("body", {})
    ref = None if weight_event is None or event_id == "null" else weight_event["event_id"]
    return {"kind": "item", "event_id": "i" + str(ref), "body": {
        "weight_events": [{"event_id": ref, "seq": None}], "action": "pick", "review": {"required": reviewed},
        "lines": [{"sku": sku, "count": 1, "plate": body.get("plates", ["p1"])[0]}],
        "t_end_unix": body.get("t_end_unix", 0.0)}}


def same(t: float, received_at: float | None = None) -> list[float]:
    return [t]


def test_one_to_one_merged_and_lost_interactions() -> None:
    truth = [pick(1, 10), pick(2, 30), pick(3, 31.5), pick(4, 60)]
    w1, w2 = weight("a", 10), weight("b", 30.5, grams=-600.0)  # 2 and 3 reported as one change; 4 never
    result = account(truth, [w1, item(w1), w2, item(w2, reviewed=True)], same)
    assert (result.interactions, result.published, result.merged, result.unaccounted) == (4, 2, 1, (4,))
    assert (result.items_right, result.items_reviewed, result.items_missing) == (1, 1, 0)
    assert not result.ok


def test_a_shifted_daemon_clock_is_undone_and_an_unlinked_item_is_found_by_its_change() -> None:
    truth = [pick(1, 10), pick(2, 40, plate="p2", grams=250.0)]
    shifted = weight("a", 10, offset=3600.0)  # stamped while the daemon's clock was an hour ahead
    w2 = weight("b", 40, plate="p2", grams=250.0)
    unlinked = item(w2, event_id="null")
    unlinked["body"]["action"] = "put"
    events = [shifted, item(shifted), w2, unlinked]
    assert account(truth, events, same).unaccounted == (1,)  # taken at face value it matches nothing
    result = account(truth, events, lambda t, received_at: [t, t - 3600.0])
    assert result.unaccounted == () and result.published == 2
    assert (result.items_unlinked, result.items_missing) == (1, 0) and not result.ok


def test_a_wrong_unflagged_item_is_counted() -> None:
    w1 = weight("a", 10)
    result = account([pick(1, 10)], [w1, item(w1, sku="gum")], same)
    assert (result.items_right, result.items_wrong_unflagged) == (0, 1)


def test_trend_finds_growth_and_calls_noise_flat() -> None:
    rng = random.Random(7)
    flat = [(float(s), 100.0 + rng.gauss(0, 1.0)) for s in range(0, 3600, 5)]
    grows = [(s, v + s / 360.0) for s, v in flat]  # +10 per hour
    assert trend("RSS", "MB", flat, 2.0).flat
    fitted = trend("RSS", "MB", grows, 2.0)
    assert not fitted.flat and fitted.ci95_per_h[0] < 10.0 < fitted.ci95_per_h[1]
    assert fitted.slope_per_h == pytest.approx(10.0, abs=1.0)
    assert math.isnan(trend("x", "u", [(0.0, 1.0)], 1.0).slope_per_h)


def test_t_quantile() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706) and t_quantile_975(10) == pytest.approx(2.228, abs=0.02)
    assert t_quantile_975(1000) == pytest.approx(1.962, abs=0.005)


def test_a_pick_inside_a_restocks_net_event_is_accounted_as_merged() -> None:
    restock = TruthRecord(1, "restock", T0 + 10, T0 + 15, {"p3": 2033.0}, "pasta", 4, True, "")
    inside = TruthRecord(2, "pick", T0 + 19, T0 + 21, {"p3": -507.0}, "pasta", 1, True, "")
    event = weight("a", 10, plate="p3", grams=1526.0)
    event["body"]["t_end_unix"] = T0 + 21.0
    result = account([restock, inside], [event, item(event)], same)
    assert (result.published, result.merged, result.unaccounted) == (1, 1, ())
    wrong = weight("b", 10, plate="p3", grams=900.0)  # a net that is not the truth's: the pick is not in it
    wrong["body"]["t_end_unix"] = T0 + 21.0
    assert account([restock, inside], [wrong, item(wrong)], same).unaccounted == (2,)
