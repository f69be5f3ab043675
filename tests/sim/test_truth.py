"""Ground truth: consistent with the signal, deterministic, and scenario files explain their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ConfigError
from edge.sim.engine import Simulation, layout_for
from edge.sim.generate import generate_scenario
from edge.sim.offline import simulate_to_capture
from edge.sim.resolve import Resolver
from edge.sim.scenario import load_scenario
from edge.sim.truth import TruthRecord, read_truth
from tests.sim.helpers import layout, quiet_scenario, render_all, stacked

REPO = Path(__file__).resolve().parents[2]
KEYS = {"id", "kind", "t_start", "t_settled", "plates", "sku", "count", "expect_event", "detail", "misplaced", "tags"}


def test_full_mix_truth_matches_the_signal() -> None:
    shelf = layout(seed=9)
    scenario = generate_scenario(9, plates=shelf, interactions=150)
    sim = Simulation(scenario, shelf, sps=40, noise=False)
    blocks = render_all(sim, scenario.end_s())
    t, plates = stacked(blocks, "t"), shelf.plate_grams(stacked(blocks, "physical"))
    names = shelf.plate_names()
    kinds = {r.kind for r in sim.truth}
    assert kinds == {"pick", "put", "restock", "bump", "lean", "fault", "reboot"} - ({"reboot"} - kinds)
    assert any(len(r.plates) == 2 and r.expect_event for r in sim.truth)  # items across two plates
    assert any("wrong plate" in r.detail for r in sim.truth)
    checked = 0
    for record in sim.truth:
        if not record.expect_event:
            continue
        for plate, delta in record.plates.items():
            others = [
                r for r in sim.truth
                if r is not record and plate in r.plates and r.kind != "fault"
                and r.t_start < record.t_settled + 0.05 and r.t_settled > record.t_start - 0.05
            ]  # fmt: skip
            if others:
                continue  # overlapping actions on this plate: checked in sum below
            column = plates[:, names.index(plate)]
            before = column[np.searchsorted(t, record.t_start) - 1]
            after = column[np.searchsorted(t, record.t_settled + 0.05)]
            assert abs(after - before - delta) < 1.0, record
            checked += 1
    assert checked > 100
    # over the whole run, the shelf's level changed by the sum of all true deltas
    total = sum(sum(r.plates.values()) for r in sim.truth)
    assert abs(plates[-1].sum() - plates[0].sum() - total) < 1.0


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    outputs = []
    for name, seed in (("a", 21), ("b", 21), ("c", 22)):
        scenario = generate_scenario(seed, plates=layout(seed=seed), interactions=30)
        simulate_to_capture(scenario, tmp_path / f"{name}.cap", tmp_path / f"{name}.jsonl")
        outputs.append(((tmp_path / f"{name}.cap").read_bytes(), (tmp_path / f"{name}.jsonl").read_bytes()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] != outputs[2][0] and outputs[0][1] != outputs[2][1]


def test_truth_file_contract(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "config" / "sim-scenario.toml")
    result = simulate_to_capture(scenario, tmp_path / "x.cap", tmp_path / "x.jsonl", start_time=1_800_000_000.0)
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert all(set(row) == KEYS for row in rows)
    assert [row["id"] for row in rows] == list(range(len(rows)))
    assert {row["kind"] for row in rows} == {"pick", "put", "restock", "bump", "lean", "fault", "reboot"}
    for row in rows:
        assert 1_800_000_000.0 <= row["t_start"] <= row["t_settled"]
        assert row["expect_event"] == (row["kind"] in {"pick", "put", "restock"})
        if not row["expect_event"]:
            assert all(v == 0.0 for v in row["plates"].values())
    across = [row for row in rows if len(row["plates"]) == 2 and row["expect_event"]]
    assert len(across) == 2 and across[0]["plates"] == {k: -v for k, v in across[1]["plates"].items()}
    assert list(read_truth(tmp_path / "x.jsonl")) == result.truth


def test_put_back_returns_the_unit_that_was_picked() -> None:
    actions = [{"at": 1.0, "kind": "pick", "plate": "p2"}, {"at": 5.0, "kind": "put", "plate": "p2"}]
    resolver = Resolver(quiet_scenario(10.0, actions), layout())
    pick, put = (r.truth for r in resolver.resolve_all())
    assert pick.plates["p2"] == -put.plates["p2"]
    assert 990.0 < put.plates["p2"] < 1035.0  # rice 1012 g +- a few %


def test_scenario_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'items = [{sku = "a", unit_g = 10}]\nplanogram = [{plate = "p1", sku = "a"}]\n'
        '[[actions]]\nat = 1\nkind = "grab"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert "actions[0].kind" in str(info.value.problems)
    empty = quiet_scenario(5.0, [{"at": 1.0, "kind": "pick", "plate": "p4", "count": 5}])
    with pytest.raises(ConfigError, match=r"holds 3 unit.*restock first"):
        Resolver(empty, layout()).resolve_all()
    nowhere = quiet_scenario(5.0, [{"at": 1.0, "kind": "pick", "plate": "p9"}])
    with pytest.raises(ConfigError, match="unknown plate 'p9'"):
        Resolver(nowhere, layout()).resolve_all()


def test_generated_mix_has_every_episode() -> None:
    scenario = generate_scenario(1, plates=layout(seed=1), interactions=400)
    kinds = [a.kind for a in scenario.actions]
    shopper = sum(k in {"pick", "put", "restock"} for k in kinds)
    assert shopper == 400
    for kind in ("bump", "lean", "glitch", "dropout", "drop_lines", "corrupt"):
        assert kind in kinds, kind
    assert any(a.grams and a.grams >= 30_000 for a in scenario.actions if a.kind == "lean")
    with pytest.raises(ValueError, match="unknown episode"):
        generate_scenario(1, 10.0, mix={"dance": 1.0})


def test_scenario_physics_overrides(tmp_path: Path) -> None:
    text = (REPO / "config" / "sim-scenario.toml").read_text()
    scenario = load_scenario(REPO / "config" / "sim-scenario.toml")
    assert scenario.physics_model().settle_s == (0.3, 1.5)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("handling_sigma_p90_g = 10.0", "handling_sigma_p99_g = 10.0"))
    with pytest.raises(ConfigError) as info:
        load_scenario(bad)
    assert "physics.handling_sigma_p99_g: unknown parameter" in str(info.value.problems)
    swapped = tmp_path / "swapped.toml"
    swapped.write_text(text.replace("settle_s = [0.3, 1.5]", "settle_s = [1.5, 0.3]"))
    with pytest.raises(ConfigError, match="swap them"):
        load_scenario(swapped)
    slow = tmp_path / "slow.toml"
    slow.write_text(text.replace("settle_s = [0.3, 1.5]", "settle_s = [2.5, 3.0]"))
    custom = load_scenario(slow)
    sim = Simulation(custom, layout_for(custom), noise=False)
    picks = [r for r in sim.resolver.resolve_all() if r.truth.kind == "pick" and len(r.truth.plates) == 1]
    assert all(r.t_change is not None and 2.0 < r.truth.t_settled - r.t_change <= 3.0 for r in picks)


@pytest.mark.parametrize(("plates", "cells", "sps"), [(1, 1, 10.0), (3, 4, 80.0), (12, 1, 320.0), (6, 3, 10.0)])
def test_any_wiring_and_rate_generates_consistent_truth(plates: int, cells: int, sps: float) -> None:
    from edge.sim.layout import ShelfLayout

    shelf = ShelfLayout.default(plates, cells, seed=plates)
    scenario = generate_scenario(plates, plates=shelf, interactions=25)
    sim = Simulation(scenario, shelf, sps=sps, noise=False)
    blocks = render_all(sim, scenario.end_s())
    grams = shelf.plate_grams(stacked(blocks, "physical"))
    total = sum(sum(r.plates.values()) for r in sim.truth)
    assert abs(grams[-1].sum() - grams[0].sum() - total) < 1.0
    assert sum(r.expect_event for r in sim.truth) == 25


def test_generated_scenario_round_trips_through_toml(tmp_path: Path) -> None:
    from edge.sim.scenario_toml import scenario_to_toml

    original = generate_scenario(8, plates=layout(seed=8), interactions=120)
    path = tmp_path / "gen.toml"
    path.write_text(scenario_to_toml(original))
    assert load_scenario(path) == original
    example = load_scenario(REPO / "config" / "sim-scenario.toml")
    path.write_text(scenario_to_toml(example))
    assert load_scenario(path) == example


def test_malformed_truth_line_is_named(tmp_path: Path) -> None:
    from edge.errors import CaptureError

    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 0, "kind": "pick"}\n')
    with pytest.raises(CaptureError, match=r"t.jsonl:1: not a truth record"):
        list(read_truth(path))
    first = TruthRecord(0, "pick", 1.0, 2.0, {"p1": -352.0}, "cola", 1, True, "").to_json().encode() + b"\n"
    path.write_bytes(first)
    assert [r.sku for r in read_truth(path)] == ["cola"]
    for number, garbage in ((2, b"\xff\xfe\x81 binary\n"), (3, b"[" * 100_000 + b"\n")):  # bytes; deep nesting
        path.write_bytes(first + b"\n" * (number - 2) + garbage)
        with pytest.raises(CaptureError, match=rf"t.jsonl:{number}: not (UTF-8 text|a truth record)"):
            list(read_truth(path))


def test_fixed_calibration_from_the_scenario(tmp_path: Path) -> None:
    from edge.loadcell.recording import read_header
    from edge.sim.scenario import Scenario
    from edge.sim.scenario_toml import scenario_to_toml

    base = quiet_scenario(3.0).model_dump()
    fixed = Scenario.model_validate({**base, "calibration": {"counts_per_gram": [400.0] * 8, "offsets": [1000] * 8}})
    path = tmp_path / "cal.toml"
    path.write_text(scenario_to_toml(fixed))
    assert load_scenario(path) == fixed
    result = simulate_to_capture(fixed, tmp_path / "c.cap", tmp_path / "c.jsonl")
    header = read_header(tmp_path / "c.cap")
    assert header["sim_counts_per_gram"] == ",".join(["400.0000"] * 8) and header["sim_offsets"] == "1000," * 7 + "1000"
    assert result.layout.offsets.tolist() == [1000] * 8
    short = Scenario.model_validate({**base, "calibration": {"offsets": [0, 0]}})
    with pytest.raises(ConfigError, match=r"calibration.offsets: 2 values for 8 channels"):
        layout_for(short)
