"""The contract without a broker: payload builders match their JSON Schemas."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from edge.model import WeightEvent
from edge.mqtt import envelope
from edge.mqtt.topics import Topics
from edge.mqtt.validation import SCHEMA_FILES, problems, schema_document
from edge.outbox.store import OutboxRow
from edge.planogram import Planogram
from edge.weighing.events import weight_event_to_dict

WEIGHT_BODY = weight_event_to_dict(WeightEvent(t_start=1.0, t_end=2.0, plate_deltas={"p1": -120.5}, delta_g=-120.5,
                                               sigma_g=1.2, quality="noisy", flags=("late",)))
ITEM_BODY = {"action": "pick", "lines": [{"sku": "SKU-1", "count": 1, "plate": "p1"}], "misplaced": False,
             "confidence": 0.97, "review": {"required": True, "reasons": ["twin"]}, "alternatives": [],
             "t_start_unix": 1.0, "t_end_unix": 2.0, "weight_events": [{"event_id": None, "seq": 3}],
             "evidence": {"plates": {"p1": {"delta_g": -120.5, "sigma_g": 1.2}}, "residual_g": 0.5,
                          "quality": "settled", "flags": [], "trace_g": None,
                          "vision": {"camera": "absent", "used": False}, "snapshot": None},
             "stock": {}}  # the full body: edge.fusion.item_event_to_dict (tests/fusion/test_encode.py)


def event(seq: int, event_id: str | None = None, kind: str = "weight", body: dict[str, Any] | None = None,
          session: int = 1) -> dict[str, Any]:
    row = OutboxRow(seq, event_id or str(uuid.uuid4()), kind, 1_790_000_000.123 + seq,
                    body or (WEIGHT_BODY if kind == "weight" else ITEM_BODY))
    return envelope.event_payload(row, "s1", "n1", session=session, historical=False)


def test_every_schema_file_is_valid_draft_2020_12() -> None:
    for name in SCHEMA_FILES:
        assert schema_document(name)["$schema"].endswith("2020-12/schema")


def test_event_envelope_matches_schema_and_iso_ms_ts() -> None:
    payload = event(7)
    assert problems("event", payload) == []
    assert payload["ts"].endswith("Z") and len(payload["ts"].split(".")[1]) == 4  # .mmmZ
    assert problems("event", event(8, kind="item")) == []


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda p: p.pop("event_id"), "<root>"),
    (lambda p: p.update(seq=0), "seq"),
    (lambda p: p.update(kind="gossip"), "kind"),
    (lambda p: p["body"].pop("delta_g"), "body"),
    (lambda p: p.update(ts="yesterday"), "ts"),
    (lambda p: p.update(extra=1), "<root>"),
])
def test_broken_events_are_reported_with_their_path(mutate: Any, where: str) -> None:
    payload = json.loads(json.dumps(event(3)))
    mutate(payload)
    found = problems("event", payload)
    assert found and found[0].startswith(where)


def test_item_body_needs_its_fields() -> None:
    assert any("action" in line for line in problems("event", event(1, kind="item", body={**ITEM_BODY,
                                                                                          "action": "stolen"})))


def test_status_resp_stamp_builders_match_schemas() -> None:
    assert problems("status", envelope.status_payload("online", 3)) == []
    assert problems("resp", envelope.response_payload("t1", "stats", result={"a": 1})) == []
    assert problems("resp", envelope.response_payload(None, "x", error=("unknown_command", "no"))) == []
    birth = envelope.stamp("birth", {"software_version": "0.1.0", "config_digest": "a" * 64, "model": None,
                                     "plates": [{"name": "p1", "channels": [0]}], "calibration": None}, 2)
    assert problems("birth", birth) == []
    assert problems("birth", {**birth, "config_digest": "short"})


def test_planogram_schema_file_is_generated_from_the_model() -> None:
    shipped = schema_document("planogram")
    generated = Planogram.model_json_schema()
    assert shipped["properties"] == generated["properties"] and shipped["$defs"] == generated["$defs"]


def test_topics() -> None:
    topics = Topics("shelf", "s1", "n1")
    assert topics.events == "shelf/s1/n1/events"
    assert topics.command_name("shelf/s1/n1/cmd/tare") == "tare"
    assert topics.command_name("shelf/s1/n1/cmd/a/b") is None
    assert topics.command_name("shelf/s1/n2/cmd/tare") is None
    assert topics.response("tare") == "shelf/s1/n1/resp/tare"
