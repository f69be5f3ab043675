"""Generated fusion scenarios: the designed shelf, the mix of hard cases, determinism, truth schema."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.planogram import parse_planogram
from edge.sim.catalogue import STORE, by_sku, count_twins, same_label_twins, weight_twins
from edge.sim.engine import Simulation, layout_for
from edge.sim.fusion_mix import generate_mixed_scenario
from edge.sim.offline import simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.scenario import Scenario, Slot, load_scenario
from edge.sim.shelf_design import design_shelf
from edge.sim.tags import TAGS, WEIGHT_TWIN_TAGS, static_tags
from edge.sim.truth import TruthRecord, read_truth

PLATES = ["p1", "p2", "p3", "p4", "p5"]


def test_designed_shelves_hold_the_twins_on_purpose() -> None:
    store = by_sku(STORE)
    for seed in range(6):
        design = design_shelf(seed, PLATES)
        on = {p: [store[s.sku] for s in design.slots if s.plate == p] for p in PLATES}
        role = {r: p for p, r in design.roles.items()}
        a, b = on[role["same_label"]]
        assert same_label_twins(a, b)
        a, b = on[role["label_distinct"]]
        assert weight_twins(a, b) and not same_label_twins(a, b)
        a, b = on[role["count_twin"]]
        assert count_twins(a, b, max_count=2) and not weight_twins(a, b)
        assert len([s for s in design.slots if s.plate == role["single"]]) == 1
        shelf = {s.sku for s in design.slots}
        assert len(shelf) == len(design.slots)  # no SKU on two plates
        assert len({i.sku for i in design.items} - shelf) == 3  # foreign SKUs in the catalogue
    with pytest.raises(ValueError, match="at least 4 plates"):
        design_shelf(1, PLATES[:3])


def _shares(preset: str) -> dict[str, float]:
    shares: Counter[str] = Counter()
    total = 0
    for seed in (101, 102, 103):  # the benchmark's tuning seeds (scripts/bench fusion)
        scenario = generate_mixed_scenario(seed, PLATES, interactions=700, preset=preset)
        truth = Simulation(scenario, layout_for(scenario), sps=10).truth
        shopper = [r for r in truth if r.expect_event]
        assert 700 <= len(shopper) <= 701  # an episode of two picks may end one over
        total += len(shopper)
        shares.update(tag for r in shopper for tag in r.tags)
        assert {r.kind for r in truth} >= {"pick", "put", "restock", "bump", "lean", "fault", "camera"}
        assert any(r.count >= 2 and r.kind == "pick" for r in shopper)
        assert any(r.misplaced and "wrong plate" in r.detail for r in shopper)
        shares["weight twins"] += sum(1 for r in shopper if set(r.tags) & set(WEIGHT_TWIN_TAGS))
        shares["plain"] += sum(1 for r in shopper if not set(r.tags) - {"mixed_plate"})
    return {tag: shares[tag] / total for tag in (*TAGS, "weight twins", "plain")}


@pytest.mark.parametrize("preset", ["stress", "store"])
def test_mix_has_every_hard_case_in_the_benchmark_shares(preset: str) -> None:
    share = _shares(preset)
    assert share["weight twins"] >= 0.10
    assert 0.05 <= share["same_label_twin"] <= 0.09  # each needs review: kept just above the 5 % asked for
    assert share["misplaced"] >= 0.05
    for tag in ("multi_unit", "across", "simultaneous", "camera_down", "restock", "back_to_back"):
        assert share[tag] >= 0.02, tag
    if preset == "stress":
        assert share["weight_twin"] >= 0.15 and share["plain"] < 0.35  # four of five plates hard
    else:
        assert share["plain"] >= 0.38 and share["misplaced"] <= 0.08  # nearer a store, minimums kept


def test_count_twins_are_tagged_as_the_planogram_lint_sees_them() -> None:
    """One 1 L carton against two 0.5 L bottles: a weight twin by the lint's 3-sigma test, tagged count_twin;
    a near twin at the same count (2.5 % apart, inside 3 sigma) is a weight_twin, and with the same labels a
    same_label_twin; a light SKU no count of which weighs like the other is neither."""
    store = by_sku(STORE)
    slots = [Slot(plate="p1", sku="alpro-soy-1l", stock=5), Slot(plate="p1", sku="water-500", stock=5),
             Slot(plate="p2", sku="milk-500", stock=5), Slot(plate="p2", sku="gum-pack", stock=5)]
    items = [store[s.sku] for s in slots]
    scenario = Scenario(name="t", items=items, planogram=slots, actions=[])

    def tags(sku: str, plate: str, count: int = 1) -> tuple[str, ...]:
        record = TruthRecord(id=0, kind="pick", t_start=1.0, t_settled=2.0, plates={plate: -1.0}, sku=sku,
                             count=count, expect_event=True, detail="")
        return static_tags(scenario, record, ["water-500"] if plate == "p2" else ())

    assert "count_twin" in tags("alpro-soy-1l", "p1") and "weight_twin" not in tags("alpro-soy-1l", "p1")
    assert "count_twin" in tags("water-500", "p1", count=2)
    assert "count_twin" not in tags("water-500", "p1")  # one bottle weighs like no count of the carton
    assert {"weight_twin", "same_label_twin"} <= set(tags("milk-500", "p2"))  # water lying there too
    assert not {"weight_twin", "count_twin"} & set(tags("gum-pack", "p2"))


def test_same_seed_same_bytes_and_truth_schema(tmp_path: Path) -> None:
    outputs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        scenario = generate_mixed_scenario(seed, PLATES, interactions=40)
        simulate_to_capture(scenario, tmp_path / f"{name}.cap", tmp_path / f"{name}.jsonl", sps=10)
        outputs.append(((tmp_path / f"{name}.cap").read_bytes(), (tmp_path / f"{name}.jsonl").read_bytes()))
    assert outputs[0] == outputs[1] and outputs[0] != outputs[2]
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    for row in rows:
        assert isinstance(row["misplaced"], bool) and set(row["tags"]) <= set(TAGS)
        assert row["misplaced"] == ("misplaced" in row["tags"])
        if row["misplaced"]:
            assert row["kind"] == "put"
    assert list(read_truth(tmp_path / "a.jsonl"))  # reads back


def test_example_mixed_scenario_truth(tmp_path: Path) -> None:
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "config" / "sim-scenario-mixed.toml")
    result = simulate_to_capture(scenario, tmp_path / "m.cap", tmp_path / "m.jsonl", sps=10)
    shopper = [r for r in result.truth if r.expect_event]
    assert [(r.kind, r.sku, r.count) for r in shopper] == [
        ("pick", "pink-lady-1kg", 1), ("pick", "water-500", 2), ("put", "pink-lady-1kg", 1),
        ("pick", "gum-pack", 3), ("pick", "pink-lady-1kg", 1),
    ]  # fmt: skip
    first, pair, misplaced, gum, again = shopper
    assert "same_label_twin" in first.tags and "weight_twin" in first.tags and "mixed_plate" in first.tags
    assert "multi_unit" in pair.tags and misplaced.misplaced and "misplaced" in misplaced.tags
    assert "wrong plate" in misplaced.detail and "camera_down" in gum.tags and "camera_down" not in again.tags
    assert -again.plates["p2"] == pytest.approx(misplaced.plates["p2"])  # the very bag that was put there
    assert [r.kind for r in result.truth].count("camera") == 1


def test_old_truth_files_still_read(tmp_path: Path) -> None:
    old = {"id": 0, "kind": "pick", "t_start": 1.0, "t_settled": 2.0, "plates": {"p1": -10.0}, "sku": "a",
           "count": 1, "expect_event": True, "detail": ""}  # fmt: skip
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n")
    record = next(read_truth(path))
    assert record.misplaced is False and record.tags == ()


def test_planogram_document_is_a_valid_v2_planogram_and_drives_a_scenario(tmp_path: Path) -> None:
    scenario = generate_mixed_scenario(3, PLATES, interactions=20)
    document = planogram_document(scenario)
    planogram = parse_planogram(json.dumps(document), PLATES)
    assert planogram is not None
    (tmp_path / "shelf.json").write_text(json.dumps(document))
    (tmp_path / "s.toml").write_text(
        'name = "from-file"\nplanogram_file = "shelf.json"\n'
        '[[actions]]\nat = 1\nkind = "pick"\nplate = "p1"\n'
    )
    loaded = load_scenario(tmp_path / "s.toml")
    slots = [(s.plate, s.sku, s.stock) for s in scenario.planogram]
    assert [(s.plate, s.sku, s.stock) for s in loaded.planogram] == slots
    assert {i.sku: i.labels for i in loaded.items} == {i.sku: i.labels for i in scenario.items}
    (tmp_path / "bad.toml").write_text('planogram_file = "nothing.json"\n')
    with pytest.raises(ConfigError, match=r"nothing\.json not found"):
        load_scenario(tmp_path / "bad.toml")
