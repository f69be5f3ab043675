"""cmd/review_answer params: what is refused and how it is said; the JSON Schema in edge/mqtt/schemas says
the same."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from edge.errors import CommandError
from edge.gallery.review import parse_answer

EVENT = "6f0c1d2e-0000-4000-8000-000000000001"
GOOD: list[dict[str, Any]] = [
    {"event_id": EVENT, "lines": [{"sku": "A", "count": 1}]},
    {"event_id": EVENT, "action": "put", "lines": [{"sku": "A", "count": 2, "plate": "p1"}], "reviewer": "anna"},
    {"event_id": EVENT, "lines": []},
    {"event_id": EVENT, "lines": [{"sku": "A", "count": 2.0}]},  # JSON's one number type: 2.0 is 2
]
BAD: list[tuple[dict[str, Any], str]] = [
    ({"lines": []}, "params.event_id must be"),
    ({"event_id": "../../etc", "lines": []}, "params.event_id must be"),
    ({"event_id": EVENT}, "params.lines is required"),
    ({"event_id": EVENT, "lines": {"sku": "A"}}, "params.lines must be a list"),
    ({"event_id": EVENT, "lines": ["A"]}, r"params.lines\[0\] must be an object"),
    ({"event_id": EVENT, "lines": [{"sku": "A", "count": 0}]}, r"params.lines\[0\].count must be"),
    ({"event_id": EVENT, "lines": [{"sku": "A", "count": 1.5}]}, r"params.lines\[0\].count must be"),
    ({"event_id": EVENT, "lines": [{"sku": "A", "count": True}]}, r"params.lines\[0\].count must be"),
    ({"event_id": EVENT, "lines": [{"sku": "", "count": 1}]}, r"params.lines\[0\].sku must be"),
    ({"event_id": EVENT, "lines": [{"sku": "A", "count": 1, "qty": 1}]}, r"unknown key\(s\) 'qty'"),
    ({"event_id": EVENT, "lines": [{"sku": "A", "count": 1}, {"sku": "A", "count": 1}]}, "listed twice"),
    ({"event_id": EVENT, "action": "unknown", "lines": []}, "params.action must be one of"),
    ({"event_id": EVENT, "lines": [], "reviewer": ""}, "params.reviewer must be"),
]


def schema() -> Draft202012Validator:
    text = resources.files("edge.mqtt.schemas").joinpath("review_answer.json").read_text(encoding="utf-8")
    document = json.loads(text)
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


@pytest.mark.parametrize("params", GOOD)
def test_good_answers_parse_and_validate(params: dict[str, Any]) -> None:
    answer = parse_answer(params)
    assert answer.event_id == EVENT and len(answer.lines) == len(params["lines"])
    assert list(schema().iter_errors(params)) == []


@pytest.mark.parametrize(("params", "message"), BAD)
def test_bad_answers_are_refused_with_the_key_named(params: dict[str, Any], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_answer(params)
    assert list(schema().iter_errors(params)), "the schema lets through what the node refuses"
