"""The live simulated MCU on a real pty pair, read with plain os.open/termios and with pyserial."""

from __future__ import annotations

import json
import os
import select
import time
import tty
from pathlib import Path

import pytest

from edge.loadcell.framing import QUERY
from edge.sim.pty_shelf import PtyShelf
from tests.sim.helpers import frame_ok, layout, quiet_scenario, weight_fields


def _read_for(fd: int, seconds: float) -> bytes:
    data = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0]:
            try:
                data += os.read(fd, 65536)
            except OSError:  # the device vanished (unplug)
                break
    return data


@pytest.fixture
def shelf(tmp_path: Path):  # type: ignore[no-untyped-def]
    actions = [{"at": 0.5, "kind": "pick", "plate": "p1"}]
    live = PtyShelf(quiet_scenario(60.0, actions), layout(), sps=80, link_path=tmp_path / "by-id-shelf",
                    truth_path=tmp_path / "truth.jsonl")  # fmt: skip
    live.start()
    yield live
    live.stop()


def test_frames_query_and_truth(shelf: PtyShelf) -> None:
    assert shelf.link_path is not None and os.readlink(shelf.link_path) == shelf.slave_path
    fd = os.open(shelf.link_path, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        data = _read_for(fd, 0.5)
        os.write(fd, QUERY)
        data += _read_for(fd, 0.4)
    finally:
        os.close(fd)
    lines = [line + b"\n" for line in data.split(b"\n") if line]
    complete = lines[1:-1]  # the first/last read may be cut mid-line
    assert len(complete) > 40 and all(frame_ok(line) for line in complete)
    seqs = [weight_fields(line)[0] for line in complete if line.startswith(b"$W")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    infos = [line for line in lines if line.startswith(b"$I")]
    assert infos and b"ch=8" in infos[-1] and shelf.queries_answered == 1
    assert [r.kind for r in shelf.truth()] == ["pick"]
    assert set(shelf.plate_grams()) == {"p1", "p2", "p3", "p4"}


def test_unplug_replug_and_interactive_pick(shelf: PtyShelf) -> None:
    import serial  # the reader side, as the node opens it

    port = serial.Serial(str(shelf.link_path), timeout=0.2)
    assert port.readline()
    before = shelf.plate_grams()["p2"]
    record = shelf.pick("p2")
    assert record.plates["p2"] < -900  # one rice unit
    shelf.unplug()
    assert shelf.link_path is not None and not shelf.link_path.exists()
    with pytest.raises(serial.SerialException):
        for _ in range(50):
            port.read(4096)
    port.close()
    time.sleep(max(0.0, record.t_settled - time.time() + 0.2))
    assert abs(shelf.plate_grams()["p2"] - (before + record.plates["p2"])) < 1.0
    shelf.replug()
    assert os.readlink(shelf.link_path) == shelf.slave_path
    port = serial.Serial(str(shelf.link_path), timeout=0.5)
    try:
        lines = [port.readline() for _ in range(3)]
    finally:
        port.close()
    assert lines[0].startswith(b"$I,")  # the MCU rebooted with the replug
    assert weight_fields(lines[1])[0] == 0 and weight_fields(lines[2])[0] == 1
    assert shelf.lines_lost > 0  # what it said while unplugged went nowhere


def test_console_commands_drive_the_live_shelf(shelf: PtyShelf) -> None:
    from edge.sim.console import handle

    first = json.loads(handle(shelf, "pick p3 cola 2"))
    assert first["kind"] == "pick" and first["count"] == 2 and -730 < first["plates"]["p3"] < -680
    second = json.loads(handle(shelf, "put p3"))
    assert second["t_start"] > first["t_settled"]  # queued after the plate settles, not on top of the pick
    assert handle(shelf, "pick p7").startswith("error: ") and "p1, p2, p3, p4" in handle(shelf, "pick p7")
    assert handle(shelf, "pick p1 cola zero").startswith("error: COUNT")
    assert handle(shelf, "dance").startswith("error: unknown command")
    assert set(json.loads(handle(shelf, "status"))) == {"p1", "p2", "p3", "p4"}
    assert handle(shelf, "unplug") == "unplugged" and not shelf.connected
    assert handle(shelf, "replug").startswith("replugged at /dev/pts/")


def test_speed_factor_compresses_wall_time(tmp_path: Path) -> None:
    actions = [{"at": 2.0, "kind": "pick", "plate": "p1"}]
    with PtyShelf(quiet_scenario(4.0, actions), layout(), sps=80, speed=10.0) as fast:
        assert fast.finished.wait(5.0)  # 4 scenario seconds in ~0.4 s
        (record,) = fast.truth()
        assert abs(record.t_start - (fast.start_time + 0.2)) < 1e-6  # wall clock: start + 2.0 s / 10
        assert fast.lines_sent + fast.lines_lost == 4 * 80 + 1  # every sample and the boot info frame


def test_reset_mcu_goes_silent_then_boots_with_seq_zero(shelf: PtyShelf) -> None:
    import serial

    port = serial.Serial(str(shelf.link_path), timeout=0.5)
    try:
        assert port.readline()
        shelf.reset_mcu(boot_s=0.5)
        lines = [port.readline() for _ in range(80)]
    finally:
        port.close()
    boots = [i for i, line in enumerate(lines) if line.startswith(b"$I,")]
    assert boots, lines[:5]  # the MCU announced its boot ...
    after = lines[boots[0] + 1]
    assert weight_fields(after)[0] == 0  # ... and counts from seq 0 again, with the cable in all along
    assert shelf.connected and os.readlink(shelf.link_path) == shelf.slave_path


def test_send_garbage_puts_raw_bytes_between_whole_lines(shelf: PtyShelf) -> None:
    import serial

    port = serial.Serial(str(shelf.link_path), timeout=0.5)
    try:
        assert port.readline()
        garbage = b"\x00\xff\x1bnot a frame\xfe" * 10 + b"\n"
        assert shelf.send_garbage(garbage) == len(garbage)
        lines = [port.readline() for _ in range(60)]
    finally:
        port.close()
    assert garbage in lines  # arrived as sent, as one line of its own
    assert all(frame_ok(line) for line in lines if line != garbage and line.startswith(b"$W"))
    shelf.unplug()
    assert shelf.send_garbage(b"lost\n") == 0  # nothing reaches a host with the cable out
