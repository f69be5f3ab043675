"""`shelf-node status`'s human table from a report shaped as the daemon's control socket answers it (the bodies
below are the node's own weight and item event shapes, as `events tail --json` prints them)."""

from __future__ import annotations

from typing import Any

from edge.cli.status_cmd import render_status, vision_rates

WEIGHT = {"n": 1, "kind": "weight", "seq": 18, "plates": ["p1"], "delta_g": -32.542, "quality": "settled",
          "flags": [], "t_end_iso": "2026-12-01T20:22:59.142Z"}
ITEM = {"n": 2, "kind": "item", "seq": 19, "action": "pick", "confidence": 0.999481, "misplaced": False,
        "lines": [{"count": 1, "plate": "p1", "sku": "gum-pack"}], "review": {"required": True, "reasons": ["twin"]},
        "t_end_iso": "2026-12-01T20:22:59.142Z"}


def report(**host: Any) -> dict[str, Any]:
    return {"node": "s/n", "software_version": "0.1.0", "uptime_s": 10, "healthy": True,
            "health": {"state": "running", "reasons": []}, "parts": {}, "mqtt": {}, "outbox": {},
            "host": {"cpu_percent": 2.5, "rss_bytes": 67_000_000, "temperature_c": None, **host},
            "recent_events": [WEIGHT, ITEM], "gpio": {}, "maintenance": False}


def test_item_events_show_what_was_picked_and_why_it_needs_review() -> None:
    text = render_status(report())
    item_row = next(line for line in text.splitlines() if line.startswith("19 "))
    assert "pick 1x gum-pack (100%)" in item_row and "twin" in item_row
    assert "20:22:59" in item_row


def test_a_host_without_a_temperature_sensor_says_so_not_none() -> None:
    host = next(line for line in render_status(report()).splitlines() if line.startswith("host "))
    assert "None" not in host and "temperature -" in host
    assert "temperature 51.2 C" in render_status(report(temperature_c=51.2))


def test_camera_and_detector_rates_from_two_reports() -> None:
    def sampled(uptime_s: float, frames: int, detected: int) -> dict[str, Any]:
        vision = {"camera_ok": True, "mode": "active", "frames": frames, "detected": detected, "detector_errors": 0}
        return {**report(), "uptime_s": uptime_s, "parts": {"vision": vision}}

    earlier, later = sampled(100.0, 1000, 400), sampled(101.0, 1010, 405)
    camera = next(line for line in render_status(later, vision_rates(earlier, later)).splitlines()
                  if line.startswith("camera "))
    assert "now 10.0 frames/s, detector 5.0/s, 0.0 errors/s" in camera


def test_the_review_keepers_counters_have_their_line() -> None:
    review = {"flagged": 7, "queued": 0, "dropped": 1, "pictures_planned": 6, "pictures_rendered": 22,
              "picture_errors": 2, "records_kept": 6, "record_errors": 0, "records_stored": 6}
    text = render_status({**report(), "parts": {"review": review}})
    line = next(line for line in text.splitlines() if line.startswith("review "))
    assert line == "review  flagged 7  kept 6 (errors 0)  pictures 22 (errors 2)  given up 1"
    assert not any(line.startswith("review ") for line in render_status(report()).splitlines())


def test_the_look_alike_splitters_have_their_line() -> None:
    looks = {"trusted_plates": ["p1"], "plates": [
        {"plate": "p1", "skus": ["GS", "PL"], "trusted": True, "examples": {"GS": 52, "PL": 50}, "needed_more": 0},
        {"plate": "p3", "skus": ["A", "B"], "trusted": False, "examples": {"A": 4, "B": 0}, "needed_more": 10}]}
    text = render_status({**report(), "parts": {"gallery": {"examples": 106, "appearance": looks}}})
    line = next(line for line in text.splitlines() if line.startswith("looks "))
    assert line == "looks   p1 trusted (GS 52, PL 50)  p3 not yet, ~10 more each (A 4, B 0)"
    assert not any(line.startswith("looks ") for line in render_status(report()).splitlines())


def test_the_reviewed_outcomes_have_their_line() -> None:
    reliability = {"outcomes": 41, "bins": [], "lowered_bins": ["0.96-0.99"], "remembered_flagged": 3,
                   "counters": {"lowered": 5, "sent_to_review": 4, "fusion_applied": 12}}
    text = render_status({**report(), "parts": {"reliability": reliability}})
    line = next(line for line in text.splitlines() if line.startswith("answers "))
    assert line == ("answers 41 reviewed  lowered bins: 0.96-0.99  events lowered 5 (to review 4)  "
                    "shelf state set 12")
