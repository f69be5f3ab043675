"""The pure parser: good frames decode, every kind of bad line is counted under its reason."""

from __future__ import annotations

import pytest

from edge.loadcell.framing import encode_frame, info_frame, weight_frame
from edge.loadcell.protocol import LineParser
from edge.model import InfoFrame, WeightFrame

from .helpers import accounted, faults_of, framed, parser_for, plain


def test_weight_frame_decodes_with_reception_time() -> None:
    parser = framed()
    frame = parser.parse(weight_frame(7, 1200, [5, -3, 8388607, -8388608]), 100.5)
    assert frame == WeightFrame(t=100.5, counts=(5, -3, 8388607, -8388608), seq=7, mcu_ms=1200)
    assert parser.health.frames_ok == 1
    assert parser.health.last_frame_t == 100.5


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r", b""])
def test_line_endings_are_accepted(ending: bytes) -> None:
    raw = weight_frame(1, 10, [1, 2, 3, 4]).rstrip(b"\n") + ending
    assert isinstance(framed().parse(raw, 1.0), WeightFrame)


def test_checksum_hex_in_either_case() -> None:
    upper = weight_frame(1, 10, [10, 20, 30, 40]).rstrip()
    assert upper[-2:].upper() == upper[-2:]
    lower = upper[:-2] + upper[-2:].lower()
    parser = framed()
    assert parser.parse(upper, 1.0) is not None
    assert parser.parse(lower, 1.1) is not None
    assert parser.health.frames_ok == 2


def test_info_frame_decodes() -> None:
    parser = framed(channels=8)
    info = parser.parse(info_frame("hx711-2.1", 8, 80, "A1B2"), 3.0)
    assert info == InfoFrame(t=3.0, firmware="hx711-2.1", channels=8, sps=80.0, uid="A1B2")
    assert parser.health.info_frames == 1
    assert parser.health.status(0.0).to_json()["last_info"] == {
        "firmware": "hx711-2.1", "channels": 8, "sps": 80.0, "uid": "A1B2"}
    assert not parser.health.info_channel_mismatch


def test_info_frame_with_other_channel_count_is_flagged() -> None:
    parser = framed(channels=4)
    assert parser.parse(info_frame("fw", 8, 80, "u"), 1.0) is not None
    assert parser.health.info_channel_mismatch


def test_empty_channel_field_is_a_dropout_not_an_error() -> None:
    parser = framed()
    frame = parser.parse(weight_frame(1, 10, [1, None, 3, None]), 1.0)
    assert isinstance(frame, WeightFrame)
    assert frame.counts == (1, None, 3, None)
    assert faults_of([frame], 4).silent == [0, 1, 0, 1]
    assert parser.health.errors == 0


def _with_valid_checksum(body: str) -> bytes:
    return encode_frame(body.split(","))


MALFORMED = {
    "too_long": _with_valid_checksum("W,1,2," + ",".join(["1" * 7] * 40)),
    "bad_framing": b"W,1,2,3,4,5,6*00",  # no '$'
    "field_count": _with_valid_checksum("W,1,2,3,4,5"),  # 3 channels, 4 configured
    "not_a_number": _with_valid_checksum("W,1,2,3,x4,5,6"),
    "out_of_range": _with_valid_checksum("W,1,2,3,8388608,5,6"),  # one past the 24-bit rail
    "unknown_type": _with_valid_checksum("X,1,2,3"),
}


@pytest.mark.parametrize("reason", sorted(MALFORMED))
def test_each_malformed_kind_is_counted_under_its_reason(reason: str) -> None:
    parser = framed()
    assert parser.parse(MALFORMED[reason], 1.0) is None
    health = parser.health
    assert health.malformed[reason] == 1
    assert health.errors == 1
    assert accounted(health) == health.lines == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"$W,1,2,3,4,5,6", "bad_framing"),  # no checksum
        (b"$W,1,2,3,4,5,6*4", "bad_framing"),  # one hex digit
        (b"$W,1,2,3,4,5,6*ZZ", "bad_framing"),
        (b"$W,1,2,3,4,5,6*00 trailing", "bad_framing"),
        (_with_valid_checksum("W,4294967296,2,3,4,5,6"), "out_of_range"),  # seq beyond uint32
        (_with_valid_checksum("W,-1,2,3,4,5,6"), "out_of_range"),
        (_with_valid_checksum("W,1,2,3,4,5,123456789"), "out_of_range"),
        (_with_valid_checksum("W,1,2,3,4,5,+6"), "not_a_number"),
        (_with_valid_checksum("W"), "field_count"),
        (_with_valid_checksum("I,fw=x,ch=4,sps=80"), "field_count"),  # uid missing
        (_with_valid_checksum("I,fw=x,ch=four,sps=80,uid=u"), "not_a_number"),
        (_with_valid_checksum("I,fw=x,ch=0,sps=80,uid=u"), "out_of_range"),
        (_with_valid_checksum("Q"), "unknown_type"),  # our own query echoed back
    ],
)
def test_more_malformed_lines(raw: bytes, reason: str) -> None:
    parser = framed()
    assert parser.parse(raw, 1.0) is None
    assert parser.health.malformed[reason] == 1, parser.health.malformed


def test_bad_checksum_is_counted_apart() -> None:
    good = weight_frame(1, 10, [1, 2, 3, 4]).rstrip()
    flipped = good[:-2] + (b"00" if good[-2:] != b"00" else b"01")
    parser = framed()
    assert parser.parse(flipped, 1.0) is None
    assert parser.health.checksum_errors == 1
    assert sum(parser.health.malformed.values()) == 0


def test_boot_noise_before_the_frame_is_tolerated_and_counted() -> None:
    parser = framed()
    frame = parser.parse(b"\x00\xff\x13" + weight_frame(5, 60, [1, 2, 3, 4]), 1.0)
    assert isinstance(frame, WeightFrame) and frame.seq == 5
    assert parser.health.garbage_prefixes == 1


def test_blank_lines_are_not_errors() -> None:
    parser = framed()
    for raw in (b"", b"\r", b"  \t"):
        assert parser.parse(raw, 1.0) is None
    assert parser.health.blank_lines == 3
    assert parser.health.errors == 0


def test_line_limit_excludes_the_carriage_return() -> None:
    line = weight_frame(12345, 1234567, [-1234567]).rstrip(b"\n")
    parser = framed(channels=1, max_line_bytes=len(line))
    assert parser.parse(line + b"\r", 1.0) is not None
    assert parser.parse(line + b"0", 1.1) is None
    assert parser.health.malformed["too_long"] == 1


# sequence -------------------------------------------------------------------------------------


def feed_seq(parser: LineParser, pairs: list[tuple[int, int]], t0: float = 0.0, dt: float = 0.0125) -> None:
    for index, (seq, mcu_ms) in enumerate(pairs):
        assert parser.parse(weight_frame(seq, mcu_ms, [index, 1, 2, 3]), t0 + index * dt) is not None


def test_consecutive_sequence_has_no_gap() -> None:
    parser = framed()
    feed_seq(parser, [(s, s * 12) for s in range(10)])
    assert (parser.health.seq_gaps, parser.health.frames_lost, parser.health.mcu_resets) == (0, 0, 0)


def test_seq_and_clock_wrap_at_2_32_is_not_a_gap_nor_a_reset() -> None:
    top = 2**32
    parser = framed()
    feed_seq(parser, [(top - 2, top - 20), (top - 1, top - 8), (0, 4), (1, 16)])
    assert (parser.health.seq_gaps, parser.health.frames_lost, parser.health.mcu_resets) == (0, 0, 0)


def test_gap_counts_the_frames_lost_including_across_the_wrap() -> None:
    top = 2**32
    parser = framed()
    feed_seq(parser, [(10, 120), (11, 132), (15, 180)])
    feed_seq(parser, [(top - 3, 200), (top - 2, 212), (1, 248)], t0=1.0)
    # 12..14 lost (3 frames); then the jump to top-3 is backwards: a reset; then top-1 and 0 lost (2)
    assert parser.health.mcu_resets == 1
    assert parser.health.seq_gaps == 2
    assert parser.health.frames_lost == 3 + 2


def test_seq_restart_is_an_mcu_reset_not_a_gap() -> None:
    parser = framed()
    feed_seq(parser, [(500, 6000), (501, 6012), (0, 3), (1, 15), (2, 27)])
    assert parser.health.mcu_resets == 1
    assert parser.health.seq_gaps == 0


def test_clock_restart_with_seq_wrapping_to_zero_is_a_reset() -> None:
    top = 2**32
    parser = framed()
    feed_seq(parser, [(top - 2, 3_000_000), (top - 1, 3_000_012), (0, 5)])
    assert parser.health.mcu_resets == 1


def test_unrequested_info_frame_mid_stream_is_a_reset_counted_once() -> None:
    parser = framed()
    feed_seq(parser, [(100, 1200), (101, 1212)])
    assert parser.parse(info_frame("fw", 4, 80, "u"), 1.0) is not None
    feed_seq(parser, [(0, 2), (1, 14)], t0=1.1)
    assert parser.health.mcu_resets == 1


def test_requested_info_frame_is_not_a_reset() -> None:
    parser = framed()
    feed_seq(parser, [(100, 1200), (101, 1212)])
    parser.expect_info(now=0.5)
    assert parser.parse(info_frame("fw", 4, 80, "u"), 1.0) is not None
    feed_seq(parser, [(102, 1224)], t0=1.1)
    assert parser.health.mcu_resets == 0
    assert parser.health.seq_gaps == 0


# channels -------------------------------------------------------------------------------------


def test_stuck_channel_is_flagged_after_n_identical_frames() -> None:
    parser = framed()
    frames = [parser.parse(weight_frame(seq, seq * 12, [seq, 777, -seq, 9]), seq * 0.0125) for seq in range(12)]
    faults = faults_of(frames, 4, stuck_frames=5)
    assert faults.stuck_events == [0, 1, 0, 1]
    assert faults.stuck_now == [False, True, False, True]
    faults.observe(0.2, (12, 778, -12, 9))
    assert faults.stuck_now == [False, False, False, True]


def test_saturation_at_the_24_bit_rail_is_counted_per_channel() -> None:
    parser = framed()
    frames = [parser.parse(weight_frame(1, 12, [8388607, 0, -8388608, 5]), 1.0),
              parser.parse(weight_frame(2, 24, [8388607, 1, 3, 6]), 1.1)]
    assert faults_of(frames, 4).saturated == [2, 0, 1, 0]
    assert faults_of(frames, 4, rail=5).saturated == [2, 0, 1, 2]  # the rail is the config's saturation_counts


# plain ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"12,-5,300", b"12 -5 300", b"12\t-5\t300", b"12, -5, 300,\r", b"  12  -5\t 300 "])
def test_plain_separators(raw: bytes) -> None:
    frame = plain().parse(raw, 2.0)
    assert frame == WeightFrame(t=2.0, counts=(12, -5, 300))


def test_plain_grams_accepts_decimals_and_skips_the_adc_rail() -> None:
    parser = plain(units="grams")
    frame = parser.parse(b"12.5,-0.25,9000000.0", 1.0)
    assert isinstance(frame, WeightFrame) and frame.counts == (12.5, -0.25, 9000000.0)
    assert faults_of([frame], 3, rail=None).saturated == [0, 0, 0]


def test_plain_counts_refuses_values_beyond_24_bits() -> None:
    parser = plain(units="counts")
    assert parser.parse(b"1,2,9000000", 1.0) is None
    assert parser.health.malformed["out_of_range"] == 1


def test_plain_errors() -> None:
    parser = plain()
    assert parser.parse(b"1,2", 1.0) is None
    assert parser.parse(b"1 2 3 4", 1.0) is None
    assert parser.parse(b"1,abc,3", 1.0) is None
    assert parser.parse(b"1 2e 3", 1.0) is None
    assert parser.health.malformed["field_count"] == 2
    assert parser.health.malformed["not_a_number"] == 2


def test_plain_empty_comma_field_is_a_dropout() -> None:
    parser = plain()
    frame = parser.parse(b"1,,3", 1.0)
    assert isinstance(frame, WeightFrame) and frame.counts == (1, None, 3)
    assert faults_of([frame], 3).silent == [0, 1, 0]


def test_make_parser_follows_the_config() -> None:
    plain_parser = parser_for(protocol="plain", channels=2, plain_units="grams")
    assert plain_parser.parse(b"1.5 2.5", 1.0) == WeightFrame(t=1.0, counts=(1.5, 2.5))
    framed_parser = parser_for(channels=2)
    assert framed_parser.parse(b"1.5 2.5", 1.0) is None
    assert framed_parser.health.malformed["bad_framing"] == 1


# issue 11 #5: Arduino's Serial.print of a failed float read -----------------------------------------


@pytest.mark.parametrize("units", ["counts", "grams"])
@pytest.mark.parametrize("token", [b"nan", b"inf", b"-inf", b"ovf", b"NaN", b"INF"])
def test_plain_nan_inf_ovf_is_a_channel_not_answering_and_the_line_is_kept(units: str, token: bytes) -> None:
    parser = plain(units=units)
    frames = [parser.parse(line, 1.0 + k) for k, line in enumerate([b"12," + token + b",300", b"12 " + token + b" 5",
                                                                     token + b"\t" + token + b"\t7"])]
    assert [f.counts if isinstance(f, WeightFrame) else f for f in frames] == [
        (12, None, 300), (12, None, 5), (None, None, 7)]
    assert parser.health.frames_ok == 3 and parser.health.errors == 0
    assert faults_of(frames, 3).silent == [1, 3, 0]  # the channel's counter grows


def test_framed_protocol_still_refuses_nan() -> None:
    parser = framed()
    assert parser.parse(encode_frame(["W", 1, 2, 3, "nan", 5, 6]), 1.0) is None
    assert parser.health.malformed["not_a_number"] == 1
