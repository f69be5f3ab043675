"""Command registry and planogram parsing without a broker (fuzzed); the live path is in test_link.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import NotStableError
from edge.mqtt.commands import CommandRegistry, redacted_config
from edge.mqtt.inbound import MAX_QUEUED, Inbound
from edge.mqtt.validation import problems
from edge.planogram import PlanogramStore, parse_planogram
from tests.mqtt.nodecfg import node_config

GOOD_PLANOGRAM: dict[str, Any] = {"id": "pg-1", "version": 3, "plates": {
    "p1": [{"sku": "COLA-33", "name": "Cola 33cl", "unit_weight_g": 350.0, "weight_tolerance_g": 8.0,
            "label": "bottle"}],
    "p2": [{"sku": "APPLE", "name": "Apple", "unit_weight_g": 180.0, "weight_tolerance_g": 40.0}]}}


def registry(allow_state: bool = False) -> CommandRegistry:
    reg = CommandRegistry(allow_state_commands=allow_state, max_bytes=1024)
    reg.register("echo", lambda params: {"echo": params}, changes_state=False, params=("x",))
    reg.register("tare", lambda params: {"tared": params.get("plate")}, changes_state=True, params=("plate",))

    def unstable(params: dict[str, Any]) -> dict[str, Any]:
        raise NotStableError("plate p1 is moving; retry when it is still")

    def buggy(params: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("bug")

    reg.register("calibrate", unstable, changes_state=False)
    reg.register("buggy", buggy, changes_state=False)
    return reg


def call(reg: CommandRegistry, name: str, request: Any) -> dict[str, Any]:
    raw = request if isinstance(request, bytes) else json.dumps(request).encode()
    response = reg.dispatch(name, raw)
    assert problems("resp", response) == []
    return response


def test_good_command_echoes_transaction() -> None:
    response = call(registry(), "echo", {"transaction": "t-1", "params": {"x": 1}})
    assert response["ok"] and response["transaction"] == "t-1" and response["result"] == {"echo": {"x": 1}}


def test_error_codes() -> None:
    reg = registry()
    assert call(reg, "nope", {"transaction": 5})["error"]["code"] == "unknown_command"
    assert call(reg, "echo", b"{not json")["error"]["code"] == "malformed"
    assert call(reg, "echo", [1, 2])["error"]["code"] == "malformed"
    assert call(reg, "echo", {"params": 3})["error"]["code"] == "invalid_params"
    assert call(reg, "echo", b"x" * 2000)["error"]["code"] == "too_large"
    refused = call(reg, "tare", {"transaction": "t"})
    assert refused["error"]["code"] == "refused" and "allow_state_commands" in refused["error"]["message"]
    assert call(registry(allow_state=True), "tare", {"params": {"plate": "p1"}})["result"] == {"tared": "p1"}
    assert "moving" in call(reg, "calibrate", {})["error"]["message"]
    crashed = call(reg, "buggy", {"transaction": "b"})
    assert crashed["error"]["code"] == "failed" and reg.internal_errors == 1
    assert call(reg, "echo", {"transaction": "after"})["ok"]


def test_unknown_params_are_refused_naming_the_key_and_the_allowed_ones() -> None:
    """Issue 11 #3: `{"plates": ["p1"]}` (a typo) must not tare every plate."""
    tared: list[Any] = []
    reg = CommandRegistry(allow_state_commands=True)
    reg.register("tare", lambda params: tared.append(params) or {}, changes_state=True, params=("plate",))
    reg.register("rebirth", lambda params: {}, changes_state=False)
    typo = call(reg, "tare", {"transaction": "t-9", "params": {"plates": ["p1"]}})
    assert typo["error"]["code"] == "invalid_params" and typo["transaction"] == "t-9" and tared == []
    assert "'plates'" in typo["error"]["message"] and "allowed: plate" in typo["error"]["message"]
    assert "takes no params" in call(reg, "rebirth", {"params": {"force": True}})["error"]["message"]
    assert call(reg, "tare", {"params": {"plate": "p1"}})["ok"] and tared == [{"plate": "p1"}]
    assert {c["name"]: c["params"] for c in reg.describe()} == {"tare": ["plate"], "rebirth": []}


def test_an_empty_payload_is_the_empty_request() -> None:
    response = call(registry(), "echo", b"")
    assert response["ok"] and response["result"] == {"echo": {}} and response["transaction"] is None


@pytest.mark.parametrize("request_body, code", [
    ({"transaction": "t-7", "params": 3}, "invalid_params"),
    ({"transaction": "t-7", "params": {}, "extra": 1}, "malformed"),
    ({"transaction": "t-7", "params": {"x": 1, "y": 2}}, "invalid_params"),
])
def test_errors_echo_a_readable_transaction(request_body: dict[str, Any], code: str) -> None:
    """Issue 11 #13: the hub must know which request to retry."""
    response = call(registry(), "echo", request_body)
    assert (response["error"]["code"], response["transaction"]) == (code, "t-7")


def test_nan_in_a_command_is_malformed_not_a_number() -> None:
    response = call(registry(), "echo", b'{"transaction": 1, "params": {"x": NaN}}')
    assert response["error"]["code"] == "malformed" and "NaN" in response["error"]["message"]


@pytest.mark.parametrize("payload", [
    b"[" * 5000 + b"]" * 5000,  # 10 KB, under max_command_bytes: json.loads raised RecursionError (no answer)
    b'{"transaction": "deep", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"transaction": ' + b"1" * 5000 + b"}",  # Python's 4300-digit limit, said in the hub's words
])
def test_a_deeply_nested_or_huge_number_payload_is_malformed_not_unanswered(payload: bytes) -> None:
    reg = CommandRegistry(allow_state_commands=False)  # the default 16 KiB limit: these pass it
    reg.register("echo", lambda params: {"echo": params}, changes_state=False, params=("x",))
    response = call(reg, "echo", payload)
    assert response["error"]["code"] == "malformed", response
    assert "sys." not in response["error"]["message"]  # no Python advice to the hub
    assert problems("resp", response) == []


def test_busy_answer_echoes_the_transaction(tmp_path: Path) -> None:
    answers: list[dict[str, Any]] = []
    inbound = Inbound(registry(), PlanogramStore(tmp_path, ["p1"]), lambda planogram: None,
                      lambda name, response: answers.append(response))  # worker not started: the queue fills
    for i in range(MAX_QUEUED + 2):
        inbound.submit("echo", json.dumps({"transaction": f"t-{i}"}).encode())
    inbound.submit("echo", b"\xff")
    assert [a["transaction"] for a in answers] == [f"t-{MAX_QUEUED}", f"t-{MAX_QUEUED + 1}", None]
    assert all(a["error"]["code"] == "busy" and problems("resp", a) == [] for a in answers)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["echo", "tare", "nope", "buggy"]),
       payload=st.one_of(st.binary(max_size=1500),
                         st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                      lambda inner: st.lists(inner, max_size=4)
                                      | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                                      max_leaves=12).map(lambda v: json.dumps(v).encode())))
def test_fuzzed_requests_always_get_a_valid_response(name: str, payload: bytes) -> None:
    response = registry().dispatch(name, payload)
    assert problems("resp", response) == []


def test_config_view_redacts_secrets(tmp_path: Path) -> None:
    config = node_config(tmp_path, 1883, mqtt={"username": "node", "password": "file:/run/secret"})
    view = redacted_config(config)
    assert view["mqtt"]["password"] == "<redacted>" and view["mqtt"]["username"] == "node"
    assert "/run/secret" not in json.dumps(view)


def test_planogram_parse_and_refusals() -> None:
    planogram = parse_planogram(json.dumps(GOOD_PLANOGRAM), ["p1", "p2"])
    assert planogram.item("COLA-33").labels == ["bottle"]  # format 1, read as format 2
    bad_plate = {**GOOD_PLANOGRAM, "plates": {"p9": GOOD_PLANOGRAM["plates"]["p1"]}}
    cases: list[tuple[bytes | str, str]] = [
        (b"{", "not valid JSON"),
        (json.dumps(bad_plate), "p9 do not exist"),
        (json.dumps({**GOOD_PLANOGRAM, "colour": "red"}), "colour: unknown key"),
        (json.dumps({**GOOD_PLANOGRAM, "plates": {"p1": [{**GOOD_PLANOGRAM["plates"]["p1"][0],
                                                           "unit_weight_g": -1}]}}), "unit_weight_g"),
        (json.dumps({**GOOD_PLANOGRAM, "plates": {"p1": GOOD_PLANOGRAM["plates"]["p1"] * 2}}), "sku listed twice"),
    ]
    for payload, expected in cases:
        try:
            parse_planogram(payload, ["p1", "p2"])
        except ValueError as exc:
            assert expected in str(exc), str(exc)
        else:
            raise AssertionError(f"accepted {payload!r}")


def test_planogram_store_round_trip_is_atomic(tmp_path: Path) -> None:
    store = PlanogramStore(tmp_path, ["p1", "p2"])
    assert store.load() is None
    planogram = parse_planogram(json.dumps(GOOD_PLANOGRAM), ["p1", "p2"])
    store.save(planogram)
    assert store.load() == planogram
    assert [p.name for p in tmp_path.iterdir()] == ["planogram.json"]  # no temp file left behind


def test_planogram_consumer_failure_keeps_the_old_one(tmp_path: Path) -> None:
    from edge.errors import ConfigError
    from edge.mqtt.inbound import Inbound
    from edge.planogram import Planogram

    applied: list[Planogram] = []
    refuse = {"mode": "none"}

    def consumer(planogram: Planogram) -> None:
        if refuse["mode"] == "refuse":
            raise ConfigError("fusion cannot use it")
        if refuse["mode"] == "crash":
            raise ZeroDivisionError("bug")
        applied.append(planogram)

    store = PlanogramStore(tmp_path, ["p1", "p2"])
    inbound = Inbound(CommandRegistry(), store, consumer, respond=lambda name, response: None)
    assert inbound.apply_planogram(json.dumps(GOOD_PLANOGRAM).encode())["ok"]
    for mode, code in (("refuse", "refused"), ("crash", "failed")):
        refuse["mode"] = mode
        response = inbound.apply_planogram(json.dumps({**GOOD_PLANOGRAM, "version": 9}).encode())
        assert response["error"]["code"] == code and problems("resp", response) == []
        assert store.load() == inbound.current and inbound.current is not None and inbound.current.version == 3
    assert [p.version for p in applied] == [3] and inbound.internal_errors == 1
