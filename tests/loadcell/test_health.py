"""Health accounting with injected clocks: outages, reopens, frame age, snapshot shape."""

from __future__ import annotations

import json

from edge.loadcell.framing import weight_frame
from edge.loadcell.health import MALFORMED_REASONS, SerialHealth
from edge.loadcell.protocol import FramedParser
from edge.loadcell.reader import SerialReader

from .helpers import FAST, Collector, PtyMcu, section, wait_until


def test_outage_seconds_and_reopens_follow_the_port_state() -> None:
    health = SerialHealth(2)
    health.port_lost(10.0, "cannot open: no such device", was_connected=False)  # never opened yet
    health.port_lost(11.0, "cannot open: no such device", was_connected=False)  # still missing
    health.port_opened(13.0)
    assert (health.port_opens, health.port_reopens, health.port_outages) == (1, 0, 0)
    assert health.outage_s == 3.0 and health.connected and health.last_port_error is None

    health.port_lost(20.0, "read failed", was_connected=True)
    snap = health.snapshot(monotonic_now=24.5)
    assert snap["port"]["outage_s"] == 7.5  # 3 s before the first open + 4.5 s in progress
    assert snap["port"]["connected"] is False and snap["port"]["last_error"] == "read failed"
    health.port_opened(25.0)
    assert (health.port_opens, health.port_reopens, health.port_outages) == (2, 1, 1)
    assert health.snapshot(monotonic_now=99.0)["port"]["outage_s"] == 8.0


def test_last_frame_age_uses_the_health_clock() -> None:
    now = [100.0]
    parser = FramedParser(SerialHealth(2, clock=lambda: now[0]))
    assert parser.health.snapshot(0.0)["last_frame_age_s"] is None
    parser.parse(weight_frame(1, 12, [1, 2]), 100.0)
    now[0] = 102.5
    assert parser.health.snapshot(0.0)["last_frame_age_s"] == 2.5


def test_snapshot_is_json_ready_and_lists_every_reason() -> None:
    snap = SerialHealth(3).snapshot(0.0)
    assert set(snap["malformed"]) == set(MALFORMED_REASONS)
    assert len(snap["dropouts"]) == len(snap["stuck_now"]) == len(snap["saturated_frames"]) == 3
    json.dumps(snap)


def test_reader_stamps_frames_with_the_injected_clock() -> None:
    mcu = PtyMcu()
    got = Collector()
    reader = SerialReader(section(port=mcu.path, **FAST), got.on_frame, clock=lambda: 1234.5).start()
    try:
        wait_until(lambda: reader.health.connected, what="open")
        mcu.send_frames(range(3))
        wait_until(lambda: len(got.weights()) == 3, what="frames")
    finally:
        reader.stop(timeout=1.0)
        mcu.unplug()
    assert {frame.t for frame in got.weights()} == {1234.5}
    assert reader.snapshot()["last_frame_age_s"] == 0.0
