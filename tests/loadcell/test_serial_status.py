"""Health accounting with injected clocks: outages, reopens, frame age, the typed status and its JSON."""

from __future__ import annotations

import json

from edge.loadcell.framing import info_frame, weight_frame
from edge.loadcell.protocol import FramedParser
from edge.loadcell.reader import SerialReader
from edge.loadcell.serial_status import MALFORMED_REASONS, PortStatus, SerialHealth, SerialStatus
from edge.model import InfoFrame
from tests.plugins.waiting import wait_until

from .helpers import FAST, Collector, PtyMcu, section


def test_outage_seconds_and_reopens_follow_the_port_state() -> None:
    health = SerialHealth(2)
    health.port_lost(10.0, "cannot open: no such device", was_connected=False)  # never opened yet
    health.port_lost(11.0, "cannot open: no such device", was_connected=False)  # still missing
    health.port_opened(13.0)
    assert (health.port_opens, health.port_reopens, health.port_outages) == (1, 0, 0)
    assert health.outage_s == 3.0 and health.connected and health.last_port_error is None

    health.port_lost(20.0, "read failed", was_connected=True)
    snap = health.status(monotonic_now=24.5)
    assert snap.port.outage_s == 7.5  # 3 s before the first open + 4.5 s in progress
    assert snap.port.connected is False and snap.port.last_error == "read failed"
    health.port_opened(25.0)
    assert (health.port_opens, health.port_reopens, health.port_outages) == (2, 1, 1)
    assert health.status(monotonic_now=99.0).port.outage_s == 8.0


def test_last_frame_age_uses_the_health_clock() -> None:
    now = [100.0]
    parser = FramedParser(SerialHealth(2, clock=lambda: now[0]))
    assert parser.health.status(0.0).last_frame_age_s is None
    parser.parse(weight_frame(1, 12, [1, 2]), 100.0)
    now[0] = 102.5
    assert parser.health.status(0.0).last_frame_age_s == 2.5


def test_status_json_is_ready_and_lists_every_reason() -> None:
    snap = SerialHealth(3).status(0.0).to_json()
    assert set(snap["malformed"]) == set(MALFORMED_REASONS)
    json.dumps(snap)


def test_status_is_a_frozen_record_whose_json_keeps_the_published_keys() -> None:
    parser = FramedParser(SerialHealth(2, clock=lambda: 10.0))
    parser.parse(info_frame("fw-2", 2, 80, "U9"), 9.0)
    parser.parse(weight_frame(1, 12, [1, 2]), 9.5)
    parser.parse(b"$W,bad*00", 9.6)
    status = parser.health.status(0.0)
    assert isinstance(status, SerialStatus) and isinstance(status.port, PortStatus)
    assert status.last_info == InfoFrame(t=9.0, firmware="fw-2", channels=2, sps=80.0, uid="U9")
    assert (status.lines, status.frames_ok, status.info_frames, status.errors) == (3, 1, 1, 1)
    data = status.to_json()
    assert list(data) == ["lines", "bytes_received", "frames_ok", "info_frames", "checksum_errors", "malformed",
                          "errors", "blank_lines", "partial_lines_dropped", "garbage_prefixes", "seq_gaps",
                          "frames_lost", "mcu_resets", "last_info", "info_channel_mismatch", "board_changes",
                          "last_frame_age_s", "port", "unexpected_errors"]
    assert data["last_info"] == {"firmware": "fw-2", "channels": 2, "sps": 80.0, "uid": "U9"}
    assert data["last_frame_age_s"] == 0.5
    assert data["port"] == {"connected": False, "opens": 0, "reopens": 0, "outages": 0, "outage_s": 0.0,
                            "last_error": None, "busy": False}
    assert json.loads(json.dumps(data)) == data


def test_another_board_in_an_info_frame_is_counted() -> None:
    parser = FramedParser(SerialHealth(2))
    parser.parse(info_frame("fw-1", 2, 80, "A"), 1.0)
    parser.parse(info_frame("fw-1", 2, 80, "A"), 2.0)  # a reboot of the same board
    assert parser.health.board_changes == 0
    parser.parse(info_frame("fw-1", 2, 80, "B"), 3.0)
    parser.parse(info_frame("fw-2", 2, 80, "B"), 4.0)  # reflashed
    assert parser.health.board_changes == 2


def test_reader_stamps_frames_with_the_injected_clock() -> None:
    mcu = PtyMcu()
    got = Collector()
    reader = SerialReader(section(port=mcu.path, **FAST), got.on_frame, clock=lambda: 1234.5).start()
    try:
        assert wait_until(lambda: reader.health.connected), "open"
        mcu.send_frames(range(3))
        assert wait_until(lambda: len(got.weights()) == 3), "frames"
    finally:
        reader.stop(timeout=1.0)
        mcu.unplug()
    assert {frame.t for frame in got.weights()} == {1234.5}
    assert reader.status().last_frame_age_s == 0.0
