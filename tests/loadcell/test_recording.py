from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import CaptureError
from edge.loadcell.recording import (
    CaptureReader,
    CaptureWriter,
    escape_line,
    read_capture,
    read_header,
    unescape_line,
)


@given(st.binary(max_size=300).filter(lambda b: b"\n" not in b and b"\r" not in b))
def test_escape_round_trips_any_bytes(raw: bytes) -> None:
    assert unescape_line(escape_line(raw)) == raw


def test_capture_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.cap"
    lines = [b"$W,1,2,3*00", b"\xff\x00garbage\\", b""]
    with CaptureWriter(path, {"node": "n1", "protocol": "framed"}) as writer:
        for i, raw in enumerate(lines):
            writer.write(1700000000.0 + i / 80, raw)
    assert read_header(path) == {"node": "n1", "protocol": "framed"}
    got = list(read_capture(path))
    assert [raw for _, raw in got] == lines
    assert got[1][0] == pytest.approx(1700000000.0125, abs=1e-6)


def test_malformed_capture_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.cap"
    path.write_text("# shelf-node capture v1\nnot-a-time\t$W\n")
    with pytest.raises(CaptureError, match=r"bad.cap:2: expected"):
        list(read_capture(path))


# issue 11 #6, #7: damaged captures are answered in words, never with a traceback ----------------------


def _capture(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "damaged.cap"
    path.write_bytes(b"# shelf-node capture v1\n# protocol: framed\n" + body)
    return path


def test_non_ascii_payload_is_handed_on_as_a_corrupt_serial_line(tmp_path: Path) -> None:
    path = _capture(tmp_path, "1796147510.000000\t$W,ü,€*00\n".encode() + b"1796147510.010000\t\xff\xfe\x80junk\n")
    got = list(read_capture(path))
    assert got == [(1796147510.0, "$W,ü,€*00".encode()), (1796147510.01, b"\xff\xfe\x80junk")]
    from edge.loadcell.protocol import FramedParser
    from edge.loadcell.serial_status import SerialHealth

    parser = FramedParser(SerialHealth(4))
    assert [parser.parse(raw, t) for t, raw in got] == [None, None]
    assert parser.health.errors == 2  # counted as bad serial lines, as the live reader would


def test_a_line_of_random_bytes_is_a_named_error_or_skipped_and_counted(tmp_path: Path) -> None:
    noise = bytes(range(128, 256)) + b"\x00\x01 no tab here"
    path = _capture(tmp_path, b"1700000000.000000\tok\n" + noise + b"\n1700000000.100000\tok2\n")
    with pytest.raises(CaptureError, match=r"damaged.cap:4: missing TAB .*--skip-bad"):
        list(read_capture(path))
    reader = CaptureReader(path, skip_bad=True)
    assert [raw for _, raw in reader] == [b"ok", b"ok2"]
    status = reader.status()
    assert (status.data_lines, status.skipped_lines) == (2, 1)
    assert status.first_skipped[0].line == 4 and "TAB" in status.first_skipped[0].reason


@pytest.mark.parametrize("stamp", ["nan", "inf", "-inf", "-1e30", "1e30", "-5"])
def test_impossible_times_name_the_line(tmp_path: Path, stamp: str) -> None:
    path = _capture(tmp_path, f"1700000000.000000\tok\n{stamp}\t$W\n".encode())
    with pytest.raises(CaptureError, match=rf"damaged.cap:4: impossible time '{re.escape(stamp)}'"):
        list(read_capture(path))


def test_random_bytes_in_the_header_are_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "h.cap"
    path.write_bytes(b"# shelf-node capture v1\n# node: \xff\xfe\n1.0\tx\n")
    with pytest.raises(CaptureError, match=r"h.cap:2: header line is not UTF-8"):
        read_header(path)
    path.write_bytes(b"\xff\xd8\xff\xe0 a jpeg\n")
    with pytest.raises(CaptureError, match="not a shelf-node capture"):
        read_header(path)
    path.write_bytes(b"# shelf-node capture v1" + b"x" * 10_000_000)  # one huge line: refused, not read whole
    with pytest.raises(CaptureError, match="not a shelf-node capture"):
        read_header(path)


def test_time_running_backwards_is_counted_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _capture(tmp_path, b"".join(f"{t:.6f}\tl{i}\n".encode() for i, t in enumerate([100.0, 101.0, 99.5, 99.6,
                                                                                           99.0, 102.0])))
    reader = CaptureReader(path)
    assert [t for t, _ in reader] == [100.0, 101.0, 99.5, 99.6, 99.0, 102.0]  # handed on as they are
    status = reader.status()
    assert status.time_backwards == 2 and status.largest_backward_step_s == pytest.approx(1.5)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "damaged.cap:5: time runs backwards by 1.500000 s" in warnings[0].getMessage()


@given(st.binary(max_size=400))
def test_any_bytes_after_the_magic_give_lines_or_a_capture_error(noise: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = _capture(Path(folder), noise)
        try:
            list(read_capture(path))
        except CaptureError as exc:
            assert "damaged.cap:" in str(exc)
        reader = CaptureReader(path, skip_bad=True)
        for t, raw in reader:
            assert isinstance(raw, bytes) and 0 <= t <= 1e10


def test_an_over_long_line_is_named_or_skipped_without_reading_it_whole(tmp_path: Path) -> None:
    path = _capture(tmp_path, b"1700000000.000000\tok\n1700000000.1\t" + b"9" * 300_000 + b"\n1700000001.0\tok2\n")
    with pytest.raises(CaptureError, match=r"damaged.cap:4: line longer than 65536 bytes"):
        list(read_capture(path))
    reader = CaptureReader(path, skip_bad=True)
    assert [raw for _, raw in reader] == [b"ok", b"ok2"] and reader.status().skipped_lines == 1
