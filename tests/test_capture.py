from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import CaptureError
from edge.loadcell.capture import CaptureWriter, escape_line, read_capture, read_header, unescape_line


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
