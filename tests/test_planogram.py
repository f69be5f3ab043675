"""Planogram format 2: validation with located messages, format 1 conversion, size and version order,
and `shelf-node planogram check` with its weight-twin lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge.errors import ConfigError
from edge.fusion.lint import weight_twins
from edge.planogram import MAX_BYTES, PlanogramTooLarge, parse_planogram, succession_problem, upgrade_v1
from tests.fusion.helpers import DOCUMENT, PLATES

V1 = {"id": "pg", "version": 3, "plates": {
    "p1": [{"sku": "COLA-33", "name": "Cola 33cl", "unit_weight_g": 350.0, "weight_tolerance_g": 8.0,
            "label": "bottle"}],
    "p2": [{"sku": "APPLE", "name": "Apple", "unit_weight_g": 180.0, "weight_tolerance_g": 40.0}]}}


def problems_of(document: Any, plates: list[str] = PLATES) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_planogram(json.dumps(document), plates)
    return caught.value.problems


def test_format_2_document_is_read_whole() -> None:
    planogram = parse_planogram(json.dumps(DOCUMENT), PLATES)
    assert planogram.item("COLA-05").labels == ["bottle"]
    assert [slot.stock for slot in planogram.plates["p1"]] == [6, 6]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["catalogue"][0].update(colour="red"),
     "planogram: catalogue[0].colour: unknown key; remove it or check its spelling (see docs/planogram.md)"),
    (lambda d: d["catalogue"][1].update(unit_weight_g=float("nan")), "catalogue[1].unit_weight_g"),
    (lambda d: d["catalogue"][1].update(unit_sigma_g=-1), "catalogue[1].unit_sigma_g"),
    (lambda d: d["plates"]["p1"].append({"sku": "COLA-2L"}),
     "planogram: plates.p1[2].sku: 'COLA-2L' is not in the catalogue; add it to `catalogue` or fix the spelling"),
    (lambda d: d["plates"]["p1"].append({"sku": "COLA-1L"}), "planogram: plates.p1: sku listed twice: COLA-1L"),
    (lambda d: d["catalogue"].append(dict(d["catalogue"][0])), "planogram: catalogue: sku listed twice: COLA-1L"),
    (lambda d: d["plates"]["p1"][0].update(stock=-2), "planogram: plates.p1[0].stock: must be at least 0 (got -2)"),
    (lambda d: d["catalogue"][0].update(labels=["bottle", "bottle"]), "a label is listed twice"),
    (lambda d: d.update(format=3), "format: 3 is not supported"),
])
def test_bad_documents_say_where_and_what(change: Any, expected: str) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    change(document)
    found = problems_of(document)
    assert any(expected in line for line in found), found
    assert not any("(got {" in line for line in found), found  # no whole-document dumps


def test_unknown_plate_is_refused_naming_the_node_plates() -> None:
    found = problems_of({**DOCUMENT, "plates": {"p9": []}})
    assert "plates p9 do not exist on this node (it has p1, p2, p3, p4, p5)" in found[0]


def test_format_1_is_read_as_format_2() -> None:
    planogram = parse_planogram(json.dumps(V1), ["p1", "p2"])
    assert planogram.format == 2 and planogram.version == 3
    cola = planogram.item("COLA-33")
    assert cola.unit_sigma_g == 4.0 and cola.labels == ["bottle"]  # tolerance read as 2 sigma
    assert planogram.item("APPLE").labels == []
    assert [slot.sku for slot in planogram.plates["p1"]] == ["COLA-33"]


def test_format_1_with_one_sku_described_twice_says_how_to_convert() -> None:
    v1 = json.loads(json.dumps(V1))
    v1["plates"]["p2"].append({**v1["plates"]["p1"][0], "unit_weight_g": 355.0})
    with pytest.raises(ConfigError, match="Write it as format 2 with one catalogue entry"):
        upgrade_v1(v1)
    assert any("format 1" in line for line in problems_of({**V1, "colour": 1}, ["p1", "p2"]))


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(PlanogramTooLarge, match="over the limit"):
        parse_planogram(b" " * (MAX_BYTES + 1), PLATES)


def test_a_document_nested_too_deeply_is_a_config_error_not_a_traceback() -> None:
    """Same class as issue 11: 200 KB of '[' under MAX_BYTES raised RecursionError (planogram check, the
    daemon's persisted planogram, config check's [fusion] planogram)."""
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_planogram(b"[" * 100_000 + b"]" * 100_000, PLATES)
    with pytest.raises(ConfigError, match="more than 4300 digits"):  # int() refused it with a traceback
        parse_planogram(b'{"format": 2, "version": ' + b"9" * 5000 + b"}", PLATES)


def test_version_order() -> None:
    current = parse_planogram(json.dumps(DOCUMENT), PLATES)
    older = parse_planogram(json.dumps({**DOCUMENT, "version": 0}), PLATES)
    changed = parse_planogram(json.dumps({**DOCUMENT, "plates": {"p1": []}}), PLATES)
    newer = parse_planogram(json.dumps({**DOCUMENT, "version": 2, "plates": {"p1": []}}), PLATES)
    other = parse_planogram(json.dumps({**DOCUMENT, "id": "pg-other", "version": 0}), PLATES)
    assert "older than the applied version 1" in (succession_problem(current, older) or "")
    assert "already applied with different content" in (succession_problem(current, changed) or "")
    assert succession_problem(current, newer) is None
    assert succession_problem(current, current) is None
    assert succession_problem(current, other) is None  # a new planogram id starts a new sequence
    assert succession_problem(None, older) is None


def test_weight_twin_lint() -> None:
    planogram = parse_planogram(json.dumps(DOCUMENT), PLATES)
    twins = {(t.plate, t.first, t.second): t for t in weight_twins(planogram, noise_sigma_g=0.5)}
    assert set(twins) == {("p1", "COLA-1L", "COLA-05"), ("p2", "APPLE-1KG", "CARROT-1KG")}
    litre = twins[("p1", "COLA-1L", "COLA-05")]
    assert (1, 2) in litre.counts and not litre.camera_can_split and litre.why == "same label bottle"
    fruit = twins[("p2", "APPLE-1KG", "CARROT-1KG")]
    assert fruit.camera_can_split and (1, 1) in fruit.counts


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "planogram", "check", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_check_command_table_and_json(tmp_path: Path) -> None:
    path = tmp_path / "planogram.json"
    path.write_text(json.dumps(DOCUMENT))
    human = run_check(str(path))
    assert human.returncode == 0, human.stderr
    assert "2 weight twin(s)" in human.stdout and "same label bottle" in human.stdout
    assert "1 twin(s) the camera cannot split" in human.stdout
    machine = run_check(str(path), "--json")
    report = json.loads(machine.stdout)
    assert report["valid"] and {tuple(t["skus"]) for t in report["twins"]} == {("COLA-1L", "COLA-05"),
                                                                              ("APPLE-1KG", "CARROT-1KG")}


def test_check_command_refuses_a_bad_file_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**DOCUMENT, "plates": {"p1": [{"sku": "NOPE"}]}}))
    bad = run_check(str(path))
    assert bad.returncode == 2 and "'NOPE' is not in the catalogue" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_check(str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "cannot read the planogram" in missing.stderr
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    nested = run_check(str(deep))
    assert nested.returncode == 2 and "nested too deeply" in nested.stderr and "Traceback" not in nested.stderr


def test_check_command_against_a_node_config(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('[node]\nstore_id = "s"\nnode_id = "n"\n[serial]\nport = "loop://"\nchannels = 2\n'
                      '[[plates]]\nname = "p1"\nchannels = [0, 1]\n')
    path = tmp_path / "planogram.json"
    path.write_text(json.dumps(DOCUMENT))
    result = run_check(str(path), "--config", str(config))
    assert result.returncode == 2 and "do not exist on this node (it has p1)" in result.stderr


def test_the_node_answers_too_large_and_refuses_versions_out_of_order(tmp_path: Path) -> None:
    from edge.mqtt.commands import CommandRegistry
    from edge.mqtt.inbound import Inbound
    from edge.mqtt.validation import problems
    from edge.planogram import Planogram, PlanogramStore

    applied: list[Planogram] = []
    inbound = Inbound(CommandRegistry(), PlanogramStore(tmp_path, PLATES), applied.append,
                      respond=lambda name, response: None)
    assert inbound.apply_planogram(json.dumps({**DOCUMENT, "version": 5}).encode())["ok"]
    answers = {
        "too_large": inbound.apply_planogram(b" " * (MAX_BYTES + 1)),
        "older": inbound.apply_planogram(json.dumps({**DOCUMENT, "version": 4}).encode()),
        "same version, new content": inbound.apply_planogram(json.dumps({**DOCUMENT, "version": 5,
                                                                         "plates": {"p1": []}}).encode()),
    }
    assert answers["too_large"]["error"]["code"] == "too_large"
    assert answers["older"]["error"]["code"] == "refused" and "older than the applied version 5" in \
        answers["older"]["error"]["message"]
    assert "publish it as version 6" in answers["same version, new content"]["error"]["message"]
    assert all(problems("resp", answer) == [] for answer in answers.values())
    assert inbound.apply_planogram(json.dumps({**DOCUMENT, "version": 6}).encode())["ok"]
    assert [p.version for p in applied] == [5, 6]
