"""The `item` body of the events envelope, from real item events, against the shipped JSON Schema."""

from __future__ import annotations

import json

from edge.fusion import item_event_to_dict
from edge.mqtt import envelope
from edge.mqtt.validation import problems
from edge.outbox.store import OutboxRow
from tests.fusion.helpers import T0, one, seen, stage, weight_event


def envelope_problems(body: dict[str, object]) -> list[str]:
    row = OutboxRow(7, "6f1c1d1e-8a4e-4a55-9a35-1f2b3c4d5e6f", "item", T0, body)
    return problems("event", envelope.event_payload(row, "s1", "n1", session=1, historical=False))


def test_item_bodies_validate_against_the_event_schema() -> None:
    fusion = stage()
    items = [
        one(fusion, {"p2": -1031.0}, seen("p2", carrot=0.7)),
        one(fusion, {"p1": -1040.5}, None, camera_ok=False, t=10.0),
        one(fusion, {"p3": -400.0}, t=20.0),
        one(fusion, {"p3": 150.3}, camera_ok=None, t=30.0),
    ]
    fusion.on_weight_event(weight_event({"p4": -600.0}, 40.0), None, True, T0 + 41.1)
    items += fusion.on_weight_event(weight_event({"p5": -400.5}, 40.3), None, True, T0 + 41.4)
    for item in items:
        body = item_event_to_dict(item)
        assert envelope_problems(body) == [], body
        assert json.loads(json.dumps(body)) == body
    across = item_event_to_dict(items[-1])
    assert across["lines"] == [{"sku": "JUICE", "count": 1, "plate": "p4", "plates": ["p4", "p5"]}]
    assert len(across["weight_events"]) == 2


def test_body_carries_what_a_reviewer_needs() -> None:
    body = item_event_to_dict(one(stage(), {"p2": -1031.0}, seen("p2"), t=0.0))
    assert body["review"]["required"] and "twin" in body["review"]["reasons"]
    assert body["weight_events"] == [{"event_id": "ev-0.0", "seq": 1}]
    assert body["evidence"]["plates"] == {"p2": {"delta_g": -1031.0, "sigma_g": 0.5}}
    assert body["evidence"]["snapshot"] == "snap-p2" and body["evidence"]["trace_g"] is None
    assert body["alternatives"] and body["alternatives"][0]["lines"][0]["plate"] == "p2"


def test_a_wrong_item_body_is_refused() -> None:
    body = item_event_to_dict(one(stage(), {"p3": -32.0}))
    assert envelope_problems({**body, "action": "picked"})
    assert envelope_problems({**body, "review": {"required": False, "reasons": ["bored"]}})


def test_hub_watch_prints_one_readable_line_per_item_event() -> None:
    from edge.hub.human_lines import human_line
    from edge.hub.tracker import HubRecord

    body = item_event_to_dict(one(stage(), {"p2": -1031.0}, seen("p2")))
    payload = {"ts": "2026-12-01T19:00:00.000Z", "seq": 9, "session": 1, "kind": "item", "body": body}
    line = human_line(HubRecord(0.0, "shelf/s1/n1/events", "s1", "n1", "event", True, [], None, payload))
    assert line.startswith("2026-12-01T19:00:00.000Z s1/n1 event seq=9 session=1 item pick 1 x ")
    assert line.endswith("REVIEW: twin weight_seq=1")
