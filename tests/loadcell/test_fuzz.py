"""Splitter and parser under arbitrary input: nothing escapes, every line is counted exactly once."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.loadcell.framing import info_frame, weight_frame
from edge.loadcell.lines import LineSplitter
from edge.loadcell.protocol import FramedParser, PlainParser
from edge.loadcell.serial_status import SerialHealth
from edge.model import InfoFrame, WeightFrame

from .helpers import accounted

CHANNELS = 4
LIMIT = 64
count_values = st.one_of(st.none(), st.integers(-(2**23), 2**23 - 1))
frames = st.builds(
    weight_frame,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.lists(count_values, min_size=CHANNELS, max_size=CHANNELS),
)
valid_lines = st.one_of(frames, st.just(info_frame("fw-1", CHANNELS, 80, "u1")))


def split_all(stream: bytes, cuts: list[int], limit: int = LIMIT) -> list[bytes]:
    splitter = LineSplitter(limit)
    lines: list[bytes] = []
    previous = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        lines += splitter.feed(stream[previous:cut])
        previous = max(previous, cut)
    return lines


def test_splitter_bounds_long_lines_and_resyncs() -> None:
    splitter = LineSplitter(8)
    assert splitter.feed(b"abc\n0123456789ABCDEF") == [b"abc", b"012345678"]
    assert splitter.pending() == 0
    assert splitter.feed(b"GHIJ\nok\npart") == [b"ok"]
    assert splitter.pending() == 4
    assert splitter.reset() is True
    assert splitter.feed(b"\n") == [b""]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=90).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    st.lists(st.integers(0, 2000), max_size=6),
)
def test_chunking_never_changes_the_lines(pieces: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(piece + b"\n" for piece in pieces)
    whole = split_all(stream, [])
    assert split_all(stream, cuts) == whole
    assert len(whole) == len(pieces)
    for piece, line in zip(pieces, whole, strict=True):
        assert line == (piece if len(piece) <= LIMIT else piece[: LIMIT + 1])


def assert_all_lines_accounted(lines: list[bytes]) -> tuple[FramedParser, list[WeightFrame | InfoFrame | None]]:
    parser = FramedParser(SerialHealth(CHANNELS), max_line_bytes=LIMIT)
    outputs = [parser.parse(line, float(index)) for index, line in enumerate(lines)]
    health = parser.health
    assert health.lines == len(lines)
    assert accounted(health) == len(lines)
    assert health.frames_ok == sum(isinstance(o, WeightFrame) for o in outputs)
    assert health.info_frames == sum(isinstance(o, InfoFrame) for o in outputs)
    json.dumps(health.status(0.0).to_json())  # stays JSON-ready whatever arrived
    return parser, outputs


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=5))
def test_random_bytes_never_crash_and_every_line_counts_once(stream: bytes, cuts: list[int]) -> None:
    assert_all_lines_accounted(split_all(stream, cuts))


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_lines, min_size=1, max_size=6), st.data())
def test_truncated_and_spliced_frames_are_counted_once(lines: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(lines)
    # drop random newlines (splices) and cut random spans out (truncations)
    mangled = bytearray(stream)
    for _ in range(data.draw(st.integers(0, 3))):
        if not mangled:
            break
        start = data.draw(st.integers(0, len(mangled) - 1))
        length = data.draw(st.integers(1, 12))
        del mangled[start : start + length]
    _, outputs = assert_all_lines_accounted(split_all(bytes(mangled), []))
    for output in outputs:
        if isinstance(output, WeightFrame):
            assert len(output.counts) == CHANNELS


@settings(max_examples=400, deadline=None)
@given(frames, st.integers(0, 10_000), st.integers(0, 7))
def test_a_single_bit_flip_never_yields_a_different_frame(line: bytes, position: int, bit: int) -> None:
    body = line.rstrip(b"\n")
    flipped = bytearray(body)
    flipped[position % len(flipped)] ^= 1 << bit
    reference = FramedParser(SerialHealth(CHANNELS), max_line_bytes=LIMIT).parse(body, 0.0)
    _parser, outputs = assert_all_lines_accounted([bytes(flipped)])
    # the XOR checksum catches every single-bit error inside the body or the checksum digits;
    # a flip that only breaks the line ending or the '$' may still decode, but to the same frame
    assert outputs[0] is None or outputs[0] == reference


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["counts", "grams"]))
def test_plain_parser_survives_random_bytes(stream: bytes, units: str) -> None:
    parser = PlainParser(SerialHealth(3), max_line_bytes=LIMIT, units=units)
    lines = split_all(stream, [])
    for index, line in enumerate(lines):
        parser.parse(line, float(index))
    assert accounted(parser.health) == parser.health.lines == len(lines)
