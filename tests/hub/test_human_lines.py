"""Issue 11 #17: `hub watch` human lines show what a hub developer needs, and `-` for a missing value."""

from __future__ import annotations

from typing import Any

from edge.hub.human_lines import human_line
from edge.hub.tracker import HubRecord
from edge.mqtt import envelope
from tests.mqtt.test_contract import event


def record(kind: str, payload: Any, valid: bool = True, note: str | None = None) -> HubRecord:
    return HubRecord(0.0, f"shelf/s1/n1/{kind}", "s1", "n1", kind, valid, [] if valid else ["seq: bad"], note,
                     payload)


def test_event_line_has_plates_grams_and_quality() -> None:
    line = human_line(record("event", event(7), note="duplicate"))
    assert "seq=7" in line and "p1=-120.5 g" in line and "-120.5 g" in line and "quality=noisy" in line
    assert "flags=late" in line and "[duplicate]" in line and "None" not in line


def test_weights_line_has_values_and_dashes_for_unknown() -> None:
    line = human_line(record("weights", {"ts": "2026-01-01T00:00:00.000Z", "plates": {"p1": 12.5, "p2": None}}))
    assert "p1=12.5 p2=-" in line and "None" not in line


def test_error_response_line_has_message_and_transaction() -> None:
    response = envelope.response_payload("t-3", "tare", error=("invalid_params", "unknown params key(s) 'plates'"))
    line = human_line(record("resp", response))
    assert "tare error invalid_params: unknown params key(s) 'plates'" in line and "transaction=t-3" in line
    unnamed = human_line(record("resp", envelope.response_payload(None, "tare", result={})))
    assert "transaction=-" in unnamed and "None" not in unnamed


def test_missing_fields_print_dashes_not_none() -> None:
    line = human_line(record("status", {"state": None, "session": None}))
    assert line.startswith("- s1/n1 status") and "None" not in line
    assert human_line(record("event", {"seq": "x"}, valid=False)).startswith("INVALID event")
