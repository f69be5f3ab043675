"""Item-event scoring on constructed cases with known answers (matching, unit F1, review, ECE, risk-coverage)."""

from __future__ import annotations

import pytest

from bench.item_scoring import (
    judge,
    match_items,
    reliability,
    review_summary,
    risk_coverage,
    same_label_alternative,
    unit_f1,
    wilson_upper,
)
from edge.model import ItemAlternative, ItemEvent, ItemLine, PlateChange
from edge.sim.truth import TruthRecord


def truth(id_: int, kind: str, t: float, plates: dict[str, float], sku: str | None, count: int = 1,
          tags: tuple[str, ...] = ()) -> TruthRecord:  # fmt: skip
    return TruthRecord(id_, kind, t, t + 1.5, plates, sku, count, kind in {"pick", "put", "restock"}, "", False, tags)  # type: ignore[arg-type]


def item(t: float, action: str, lines: list[tuple[str, int, str]], confidence: float = 0.99, review: bool = False,
         alternatives: tuple[ItemAlternative, ...] = ()) -> ItemEvent:  # fmt: skip
    item_lines = tuple(ItemLine(sku, count, plate) for sku, count, plate in lines)
    plates = {plate for _, _, plate in lines} or {"p1"}
    grams = 100.0 if action == "put" else -100.0
    return ItemEvent(
        t_start=t, t_end=t + 1.8, action=action, lines=item_lines, confidence=confidence, misplaced=False,  # type: ignore[arg-type]
        review_required=review, review_reasons=("twin",) if review else (), alternatives=alternatives,
        weight_events=(), changes=tuple(PlateChange(p, grams, 1.0) for p in sorted(plates)), residual_g=0.0,
    )  # fmt: skip


def test_exact_answers_score_one() -> None:
    records = [truth(0, "pick", 10.0, {"p1": -100.0}, "a"), truth(1, "put", 20.0, {"p2": 100.0}, "b", 2)]
    events = [item(10.2, "pick", [("a", 1, "p1")]), item(20.1, "put", [("b", 2, "p2")])]
    groups = match_items(events, records)
    assert unit_f1(groups) == {"tp": 3, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert all(j.correct for j in judge(groups))


def test_wrong_sku_wrong_count_and_misses_count_as_units() -> None:
    records = [truth(0, "pick", 10.0, {"p1": -100.0}, "a", 2), truth(1, "pick", 30.0, {"p3": -50.0}, "c")]
    events = [item(10.0, "pick", [("a", 1, "p1")]), item(50.0, "pick", [("b", 1, "p2")])]  # 2nd: a false event
    f1 = unit_f1(match_items(events, records))
    assert (f1["tp"], f1["fp"], f1["fn"]) == (1, 1, 2)
    assert f1["precision"] == 0.5 and f1["recall"] == pytest.approx(1 / 3)
    assert [j.correct for j in judge(match_items(events, records))] == [False, False]


def test_other_plate_too_late_or_the_other_way_does_not_match() -> None:
    records = [truth(0, "pick", 10.0, {"p1": -100.0}, "a")]
    assert unit_f1(match_items([item(10.0, "put", [("a", 1, "p1")])], records))["fp"] == 1  # weight arrived
    assert unit_f1(match_items([item(10.0, "pick", [("a", 1, "p2")])], records))["tp"] == 0
    assert unit_f1(match_items([item(15.0, "pick", [("a", 1, "p1")])], records))["tp"] == 0  # > 2 s after settle
    assert unit_f1(match_items([item(13.0, "pick", [("a", 1, "p1")])], records))["tp"] == 1  # within 2 s


def test_two_quick_picks_as_one_event_and_a_restock_in_steps() -> None:
    picks = [truth(0, "pick", 10.0, {"p1": -100.0}, "a"), truth(1, "pick", 11.0, {"p1": -100.0}, "a")]
    merged = match_items([item(10.5, "pick", [("a", 2, "p1")])], picks)
    assert unit_f1(merged)["f1"] == 1.0 and judge(merged)[0].correct
    restock = [truth(0, "restock", 10.0, {"p1": 300.0}, "a", 3)]
    steps = [item(10.0 + i, "put", [("a", 1, "p1")]) for i in range(3)]
    groups = match_items(steps, restock)
    assert unit_f1(groups)["f1"] == 1.0 and all(j.correct for j in judge(groups))
    # the weighing merged a pick into a put's event (its contract allows it): judged on the net
    put_then_pick = [truth(0, "put", 10.0, {"p1": 200.0}, "a", 2), truth(1, "pick", 12.0, {"p1": -100.0}, "a")]
    net = match_items([item(10.0, "put", [("a", 1, "p1")])], put_then_pick)
    assert len(net) == 1 and judge(net)[0].correct
    gross = match_items([item(10.0, "put", [("a", 2, "p1")])], put_then_pick)  # the put right, the pick missed
    assert judge(gross)[0].correct and unit_f1(gross)["fn"] == 1


def test_unknown_claims_nothing() -> None:
    records = [truth(0, "pick", 10.0, {"p1": -100.0}, "a")]
    groups = match_items([item(10.0, "unknown", [])], records)
    assert unit_f1(groups)["fn"] == 1 and unit_f1(groups)["fp"] == 0
    alone = judge(match_items([item(99.0, "unknown", [])], records))  # a bump's event called unknown: right
    assert alone[0].correct


def test_review_rate_and_precision_on_unflagged() -> None:
    records = [truth(i, "pick", 10.0 * i, {"p1": -100.0}, "a") for i in range(4)]
    events = [item(0.0, "pick", [("a", 1, "p1")]), item(10.0, "pick", [("b", 1, "p1")]),
              item(20.0, "pick", [("b", 1, "p1")], review=True),
              item(30.0, "pick", [("a", 1, "p1")], review=True)]  # fmt: skip
    summary = review_summary(judge(match_items(events, records)))
    assert summary["review_rate"] == 0.5 and summary["precision_unflagged"] == 0.5
    assert summary["unflagged_wrong"] == 1 and summary["accuracy"] == 0.5


def test_reliability_and_ece() -> None:
    records = [truth(i, "pick", 10.0 * i, {"p1": -100.0}, "a") for i in range(10)]
    # ten events at confidence 0.9 (the [0.9, 0.95) bin), of which 8 are right: accuracy 0.8
    events = [item(10.0 * i, "pick", [("a" if i < 8 else "b", 1, "p1")], confidence=0.9) for i in range(10)]
    rows, ece = reliability(judge(match_items(events, records)))
    assert len(rows) == 1 and rows[0]["low"] == 0.9 and rows[0]["accuracy"] == pytest.approx(0.8)
    assert ece == pytest.approx(0.1)


def test_risk_coverage_ranks_by_confidence() -> None:
    records = [truth(i, "pick", 10.0 * i, {"p1": -100.0}, "a") for i in range(4)]
    events = [item(0.0, "pick", [("a", 1, "p1")], 0.99), item(10.0, "pick", [("a", 1, "p1")], 0.98),
              item(20.0, "pick", [("a", 1, "p1")], 0.97), item(30.0, "pick", [("b", 1, "p1")], 0.6)]  # fmt: skip
    rows = risk_coverage(judge(match_items(events, records)), points=(0.5, 0.75, 1.0))
    assert [r["risk"] for r in rows] == [0.0, 0.0, 0.25]
    assert [r["threshold"] for r in rows] == [0.98, 0.97, 0.6]
    assert rows[0]["risk_upper95"] > 0.0  # two right answers do not prove a zero error rate


def test_wilson_upper_bound() -> None:
    assert wilson_upper(0, 1000) == pytest.approx(0.00383, abs=1e-4)
    assert wilson_upper(5, 1000) > 0.005 > 5 / 1000 * 0.99
    assert wilson_upper(0, 0) == 1.0


def test_same_label_alternative() -> None:
    labels = {"granny": frozenset({"apple"}), "pink": frozenset({"apple"}), "orange": frozenset({"orange"})}
    twin = ItemAlternative("pick", (ItemLine("pink", 1, "p1"),), 0.3)
    other = ItemAlternative("pick", (ItemLine("orange", 1, "p1"),), 0.3)
    rare = ItemAlternative("pick", (ItemLine("pink", 1, "p1"),), 0.001)
    assert same_label_alternative(item(0.0, "pick", [("granny", 1, "p1")], alternatives=(twin,)), labels)
    assert not same_label_alternative(item(0.0, "pick", [("granny", 1, "p1")], alternatives=(other, rare)), labels)


def test_safe_coverage_stops_where_the_upper_bound_passes_half_a_percent() -> None:
    from types import SimpleNamespace

    from bench.fusion_report import _safe_coverage
    from bench.item_scoring import Judged

    right = [Judged(SimpleNamespace(confidence=1.0 - i * 1e-6), True, ()) for i in range(1000)]
    wrong = [Judged(SimpleNamespace(confidence=0.5 - i * 1e-6), False, ()) for i in range(100)]
    coverage, threshold = _safe_coverage(right + wrong)
    assert coverage == pytest.approx(1000 / 1100) and threshold == pytest.approx(1.0 - 999e-6)
    assert _safe_coverage(right[:500])[0] == 0.0  # 500 right answers cannot show an error rate under 0.5 %
