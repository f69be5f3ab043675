"""The published comparators answer like their papers say, on the same input as the fused stage."""

from __future__ import annotations

from bench.fusion_baselines import BASELINES
from edge.fusion.settings import FusionSettings
from tests.fusion.helpers import PLATES, T0, planogram, seen, weight_event


def answer(name: str, deltas: dict[str, float], evidence: object = None, camera_ok: bool = True) -> tuple:
    model = BASELINES[name](PLATES, planogram(), FusionSettings())
    items = model.on_weight_event(weight_event(deltas), evidence, camera_ok, T0 + 1.1)  # type: ignore[arg-type]
    items += model.flush()
    assert len(items) == 1
    item = items[0]
    return item.action, [(line.sku, line.count, line.plate) for line in item.lines], item.review_required


def test_every_comparator_names_the_obvious_answer_and_never_abstains() -> None:
    for name in ("aim3s", "autocheckout2020", "weight_planogram"):
        assert answer(name, {"p3": -64.1}) == ("pick", [("GUM", 2, "p3")], False), name
    assert answer("vision_only", {"p4": -1000.0}, seen("p4", carton=0.7)) == ("pick", [("JUICE", 1, "p4")], False)


def test_vision_only_without_a_detection_cannot_answer() -> None:
    assert answer("vision_only", {"p3": -32.0}, seen("p3"))[0] == "unknown"


def test_autocheckout_rule_rounds_the_count_and_prefers_the_layout() -> None:
    # 0.8 x layout dominates: on p1 both colas share the layout, and 1040 g is one 1 L or two 0.5 L exactly
    action, lines, _ = answer("autocheckout2020", {"p1": -1040.0})
    assert action == "pick" and lines in ([("COLA-1L", 1, "p1")], [("COLA-05", 2, "p1")])


def test_aim3s_uses_vision_to_split_a_label_distinct_twin() -> None:
    assert answer("aim3s", {"p2": -1031.0}, seen("p2", carrot=0.7))[1] == [("CARROT-1KG", 1, "p2")]
    assert answer("aim3s", {"p2": -1031.0}, seen("p2", apple=0.7))[1] == [("APPLE-1KG", 1, "p2")]
