"""The port reader over real ptys and a real TCP socket: decoding, $Q, unplug/replug, stop."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.loadcell.framing import QUERY, info_frame, weight_frame
from edge.loadcell.reader import SerialReader, backoff_delay
from edge.model import InfoFrame, WeightFrame
from tests.plugins.waiting import wait_until

from .helpers import FAST, Collector, PtyMcu, faults_of, section

CHANNELS = 4
@pytest.fixture
def mcu() -> Iterator[PtyMcu]:
    device = PtyMcu()
    yield device
    device.unplug()


def test_reader_decodes_a_pty_and_asks_for_the_info_frame(mcu: PtyMcu) -> None:
    got = Collector()
    reader = SerialReader(section(port=mcu.path, **FAST), got.on_frame, got.on_line).start()
    try:
        assert mcu.received() == QUERY
        mcu.send(info_frame("test-fw", CHANNELS, 80, "U1"))
        mcu.send_frames(range(0, 20))
        mcu.send(b"$W,garbage*00\r\n")
        assert wait_until(lambda: len(got.weights()) == 20), "20 frames"
        assert wait_until(lambda: reader.health.lines == 22), "the garbage line"
    finally:
        reader.stop(timeout=1.0)
    assert not reader.is_alive()
    assert [f.seq for f in got.weights()] == list(range(20))
    assert got.weights()[5].counts == (5, -5, 100, None)
    assert isinstance(got.frames[0], InfoFrame) and got.frames[0].firmware == "test-fw"
    assert [raw for _, raw in got.lines][-1] == b"$W,garbage*00\r"
    snap = reader.status()
    assert snap.frames_ok == 20 and snap.info_frames == 1 and snap.mcu_resets == 0
    assert snap.malformed["bad_framing"] + snap.checksum_errors == 1
    assert faults_of(list(got.weights()), CHANNELS).silent == [0, 0, 0, 20]
    assert snap.bytes_received == sum(len(raw) + 1 for _, raw in got.lines)
    assert snap.port.opens == 1


def test_unplug_and_replug_behind_a_stable_symlink(tmp_path: Path, mcu: PtyMcu) -> None:
    link = tmp_path / "usb-shelf-mcu-if00"  # stands in for /dev/serial/by-id/...
    link.symlink_to(mcu.path)
    got = Collector()
    reader = SerialReader(section(port=str(link), **FAST), got.on_frame).start()
    try:
        assert wait_until(lambda: reader.health.connected), "first open"
        mcu.send_frames(range(0, 10))
        assert wait_until(lambda: len(got.weights()) == 10), "frames before unplug"

        mcu.send(b"$W,11,13")  # half a line in flight when the cable is pulled
        time.sleep(0.05)
        mcu.unplug()
        link.unlink()
        assert wait_until(lambda: not reader.health.connected), "the reader to notice the unplug"
        time.sleep(0.3)  # stays unplugged for a while: the reader keeps retrying meanwhile
        assert reader.is_alive()

        replugged = PtyMcu()
        try:
            link.symlink_to(replugged.path)
            assert wait_until(lambda: reader.health.connected), "reopen after replug"
            assert replugged.received() == QUERY
            replugged.send_frames(range(15, 25))  # the MCU kept counting while unplugged
            assert wait_until(lambda: len(got.weights()) == 20), "frames after replug"
        finally:
            replugged.unplug()
    finally:
        reader.stop(timeout=1.0)
    assert not reader.is_alive()
    assert [f.seq for f in got.weights()] == [*range(10), *range(15, 25)]
    snap = reader.status()
    assert snap.port.reopens >= 1
    assert snap.port.outages >= 1
    assert snap.port.outage_s > 0.25
    assert snap.partial_lines_dropped == 1
    assert snap.frames_lost == 5 and snap.seq_gaps == 1  # 10..14 never arrived
    assert snap.errors == 0


def test_a_missing_port_is_retried_until_it_appears(tmp_path: Path, mcu: PtyMcu) -> None:
    link = tmp_path / "not-yet-plugged"
    got = Collector()
    reader = SerialReader(section(port=str(link), **FAST), got.on_frame).start()
    try:
        assert wait_until(lambda: reader.health.last_port_error is not None), "an open failure"
        assert str(link) in str(reader.health.last_port_error)
        link.symlink_to(mcu.path)
        assert wait_until(lambda: reader.health.connected), "open once the device appears"
        mcu.send_frames(range(3))
        assert wait_until(lambda: len(got.weights()) == 3), "frames"
    finally:
        reader.stop(timeout=1.0)
    snap = reader.status()
    assert snap.port.opens == 1 and snap.port.reopens == 0
    assert snap.port.outage_s > 0


def test_a_failing_callback_is_logged_counted_and_survived(mcu: PtyMcu, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int | None] = []

    def fragile(frame: WeightFrame | InfoFrame) -> None:
        if isinstance(frame, WeightFrame) and frame.seq == 2:
            raise KeyError("downstream bug")
        if isinstance(frame, WeightFrame):
            seen.append(frame.seq)

    reader = SerialReader(section(port=mcu.path, **FAST), fragile).start()
    try:
        assert wait_until(lambda: reader.health.connected), "open"
        mcu.send_frames(range(5))
        assert wait_until(lambda: len(seen) == 4), "the frames after the failure"
    finally:
        reader.stop(timeout=1.0)
    assert seen == [0, 1, 3, 4]
    assert reader.health.unexpected_errors == 1
    assert "downstream bug" in caplog.text


def test_socket_url_goes_through_the_same_reader() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(64)  # the reader's $Q
            connection.sendall(b"".join(weight_frame(seq, seq * 12, [1, 2, 3, seq]) for seq in range(6)))
            time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    got = Collector()
    reader = SerialReader(section(port=f"socket://127.0.0.1:{port}", **FAST), got.on_frame).start()
    try:
        assert wait_until(lambda: len(got.weights()) == 6), "frames over TCP"
    finally:
        reader.stop(timeout=1.0)
        server.close()
    assert [f.counts[3] for f in got.weights()] == list(range(6))


def test_backoff_doubles_with_jitter_between_min_and_max() -> None:
    import random

    rng = random.Random(7)
    delays = [backoff_delay(attempt, 0.5, 8.0, rng) for attempt in range(10)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert delays[0] == 0.5  # jitter never goes below the minimum
    assert 2.0 <= delays[3] <= 4.0
    assert all(4.0 <= d <= 8.0 for d in delays[5:])
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jittered, not lockstep


def test_a_vanished_device_path_is_treated_as_unplugged(tmp_path: Path, mcu: PtyMcu) -> None:
    link = tmp_path / "usb-shelf-mcu-if00"
    link.symlink_to(mcu.path)
    got = Collector()
    reader = SerialReader(section(port=str(link), **FAST), got.on_frame).start()
    try:
        assert wait_until(lambda: reader.health.connected), "first open"
        link.unlink()  # udev removed the by-id link, but reads have not failed (yet)
        assert wait_until(lambda: not reader.health.connected), "the vanished path to be noticed"
        assert "disappeared" in str(reader.health.last_port_error)
        link.symlink_to(mcu.path)
        assert wait_until(lambda: reader.health.connected), "reopen"
        mcu.send_frames(range(3))
        assert wait_until(lambda: len(got.weights()) == 3), "frames after reopen"
    finally:
        reader.stop(timeout=1.0)
    assert reader.status().port.reopens == 1


def test_open_errors_say_what_to_do(tmp_path: Path) -> None:
    reader = SerialReader(section(port=str(tmp_path / "missing"), **FAST), lambda frame: None).start()
    try:
        assert wait_until(lambda: reader.health.last_port_error is not None), "an open failure"
    finally:
        reader.stop(timeout=1.0)
    assert "no such device" in str(reader.health.last_port_error)
    assert "/dev/serial/by-id" in str(reader.health.last_port_error)


def test_plain_protocol_over_a_pty_sends_no_query(mcu: PtyMcu) -> None:
    got = Collector()
    config = section(port=mcu.path, protocol="plain", plain_units="grams", **FAST)
    reader = SerialReader(config, got.on_frame).start()
    try:
        assert wait_until(lambda: reader.health.connected), "open"
        mcu.send(b"1.5,2.5,3.5,4.5\r\n10 20 30 40\nnot numbers at all\n")
        assert wait_until(lambda: reader.health.lines == 3), "three lines"
    finally:
        reader.stop(timeout=1.0)
    assert [f.counts for f in got.weights()] == [(1.5, 2.5, 3.5, 4.5), (10, 20, 30, 40)]
    assert reader.health.malformed["not_a_number"] == 1
    assert mcu.received(timeout=0.1) == b""  # nothing was written to the MCU


def test_loop_url_without_a_descriptor_still_reads() -> None:
    # loop:// echoes what the reader writes: its own $Q comes back and is counted, not decoded
    reader = SerialReader(section(port="loop://", **FAST), lambda frame: None).start()
    try:
        assert wait_until(lambda: reader.health.lines == 1), "the echoed query"
    finally:
        reader.stop(timeout=1.0)
    assert reader.health.malformed["unknown_type"] == 1
    assert reader.health.bytes_received == len(QUERY)
