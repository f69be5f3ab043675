"""Decode one line from the load-cell microcontroller (pure: bytes + reception time in, record out).

Two protocols (docs/serial-protocol.md):
  framed  `$W,<seq>,<t_ms>,<c1>,...,<cN>*HH` and `$I,fw=..,ch=..,sps=..,uid=..*HH`, XOR checksum
  plain   N numbers separated by commas, spaces or tabs (raw counts or grams)

`parse(raw, t)` returns a WeightFrame, an InfoFrame, or None for a line that was dropped.
It never raises on bad input: each line lands in exactly one health counter.
"""

from __future__ import annotations

import math
import re
from typing import cast

from edge.config.serial import SerialSection
from edge.loadcell.framing import checksum
from edge.loadcell.sequence import UINT32, SequenceTracker
from edge.loadcell.serial_status import SerialHealth
from edge.model import InfoFrame, WeightFrame

COUNT_MIN = -(1 << 23)  # -8388608, the 24-bit rails
COUNT_MAX = (1 << 23) - 1  # 8388607
_INTEGER = re.compile(rb"-?[0-9]+")
# What Arduino's Serial.print writes for a float it cannot show (a failed HX711 read): that channel did
# not answer in this frame, like an empty field. Compared lower-case.
NOT_ANSWERING = frozenset({b"nan", b"-nan", b"inf", b"+inf", b"-inf", b"ovf", b"-ovf"})
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
INFO_KEYS = ("fw", "ch", "sps", "uid")
# An info frame arriving this long after our $Q is the answer to it, not a reboot announcement.
INFO_REPLY_WINDOW_S = 2.0


class LineParser:
    """Shared bookkeeping: line count, length limit, blank lines."""

    def __init__(self, health: SerialHealth, max_line_bytes: int = 256) -> None:
        self.health = health
        self.channels = health.channels
        self.max_line_bytes = max_line_bytes

    def parse(self, raw: bytes, t: float) -> WeightFrame | InfoFrame | None:
        health = self.health
        health.lines += 1
        if len(raw) - raw.endswith(b"\r") > self.max_line_bytes:  # the limit excludes the line ending
            health.malformed["too_long"] += 1
            return None
        line = raw.strip()
        if not line:
            health.blank_lines += 1
            return None
        return self._decode(line, t)

    def _decode(self, line: bytes, t: float) -> WeightFrame | InfoFrame | None:
        raise NotImplementedError

    def expect_info(self, now: float) -> None:
        """The host just asked for an info frame (only meaningful for the framed protocol)."""


class FramedParser(LineParser):
    def __init__(self, health: SerialHealth, max_line_bytes: int = 256) -> None:
        super().__init__(health, max_line_bytes)
        self.sequence = SequenceTracker(health)
        count = rb",(?:(-?[0-9]{1,8}))?"  # an empty field is a dropout (group is None)
        self._weight = re.compile(rb"W,([0-9]{1,10}),([0-9]{1,10})" + count * self.channels)
        self._frames_since_info = 0
        self._info_expected_until = -math.inf

    def expect_info(self, now: float) -> None:
        self._info_expected_until = now + INFO_REPLY_WINDOW_S

    def _decode(self, line: bytes, t: float) -> WeightFrame | InfoFrame | None:
        health = self.health
        start = line.rfind(b"$")  # bytes before the last '$' are boot noise or a cut-off frame
        star = line.rfind(b"*")
        if start < 0 or star < start or star != len(line) - 3:
            health.malformed["bad_framing"] += 1
            return None
        digits = line[star + 1 :]
        if digits[0] not in _HEX_DIGITS or digits[1] not in _HEX_DIGITS:
            health.malformed["bad_framing"] += 1
            return None
        body = line[start + 1 : star]
        if checksum(body) != int(digits, 16):
            health.checksum_errors += 1
            return None
        if start:
            health.garbage_prefixes += 1
        kind = body[:2]
        if kind == b"W,":
            return self._weight_frame(body, t)
        if kind == b"I,":
            return self._info_frame(body, t)
        health.malformed["field_count" if body in (b"W", b"I") else "unknown_type"] += 1
        return None

    def _weight_frame(self, body: bytes, t: float) -> WeightFrame | None:
        health = self.health
        match = self._weight.fullmatch(body)
        if match is None:
            health.malformed[self._classify(body)] += 1
            return None
        groups = match.groups()
        seq = int(groups[0])
        mcu_ms = int(groups[1])
        values: list[int | None] = [None if g is None else int(g) for g in groups[2:]]
        # list comprehension + min/max: the cheapest range check in CPython (this is the hot path)
        present = cast(list[int], values) if None not in values else [v for v in values if v is not None]
        if seq >= UINT32 or mcu_ms >= UINT32 or (present and (min(present) < COUNT_MIN or max(present) > COUNT_MAX)):
            health.malformed["out_of_range"] += 1
            return None
        counts = tuple(values)
        self.sequence.observe(seq, mcu_ms, t)
        self._frames_since_info += 1
        health.frames_ok += 1
        health.last_frame_t = t
        return WeightFrame(t=t, counts=counts, seq=seq, mcu_ms=mcu_ms)

    def _classify(self, body: bytes) -> str:
        """Why a checksum-valid W body failed the fast pattern (the slow path, errors only)."""
        fields = body.split(b",")[1:]
        if len(fields) != 2 + self.channels:
            return "field_count"
        for index, value in enumerate(fields):
            if index >= 2 and not value:
                continue
            if _INTEGER.fullmatch(value) is None:
                return "not_a_number"
        return "out_of_range"  # numbers, but too many digits or a negative seq/t_ms

    def _info_frame(self, body: bytes, t: float) -> InfoFrame | None:
        health = self.health
        values: dict[str, str] = {}
        for item in body.split(b",")[1:]:
            key, equals, value = item.partition(b"=")
            if not equals:
                health.malformed["field_count"] += 1
                return None
            values[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
        if any(key not in values for key in INFO_KEYS):
            health.malformed["field_count"] += 1
            return None
        try:
            channels = int(values["ch"])
            sps = float(values["sps"])
        except ValueError:
            health.malformed["not_a_number"] += 1
            return None
        if not 1 <= channels <= 32 or not math.isfinite(sps) or sps <= 0:
            health.malformed["out_of_range"] += 1
            return None
        if self._frames_since_info and t > self._info_expected_until:
            health.mcu_resets += 1  # an unrequested info frame mid-stream: the MCU rebooted
            self.sequence.forget()
        self._frames_since_info = 0
        self._info_expected_until = -math.inf
        health.info_frames += 1
        info = InfoFrame(t=t, firmware=values["fw"], channels=channels, sps=sps, uid=values["uid"])
        health.info_seen(info)
        return info


class PlainParser(LineParser):
    """N numbers per line; commas (an empty field is a dropout), or runs of spaces/tabs.

    `nan`, `inf` and `ovf` (what Arduino prints for a failed float read) are a channel that did not
    answer in this frame: None, like an empty field; the line is kept."""

    def __init__(self, health: SerialHealth, max_line_bytes: int = 256, units: str = "counts") -> None:
        super().__init__(health, max_line_bytes)
        self.units = units

    def _decode(self, line: bytes, t: float) -> WeightFrame | None:
        health = self.health
        if b"," in line:
            tokens = [token.strip() for token in line.split(b",")]
            if len(tokens) == self.channels + 1 and not tokens[-1]:
                tokens.pop()  # `Serial.print(v); Serial.print(",")` sketches end lines with a comma
        else:
            tokens = line.split()
        if len(tokens) != self.channels:
            health.malformed["field_count"] += 1
            return None
        values: list[float | None] = []
        for token in tokens:
            if not token or token.lower() in NOT_ANSWERING:
                values.append(None)
                continue
            try:
                value: float = int(token)
            except ValueError:
                try:
                    value = float(token)
                except ValueError:
                    health.malformed["not_a_number"] += 1
                    return None
                if not math.isfinite(value):
                    health.malformed["not_a_number"] += 1
                    return None
            if self.units == "counts" and not COUNT_MIN <= value <= COUNT_MAX:
                health.malformed["out_of_range"] += 1
                return None
            values.append(value)
        health.frames_ok += 1
        health.last_frame_t = t
        return WeightFrame(t=t, counts=tuple(values))


def sends_grams(section: SerialSection) -> bool:
    """A plain-protocol sketch that already converts to grams: no ADC rail, a default scale of 1."""
    return section.protocol == "plain" and section.plain_units == "grams"


def make_parser(section: SerialSection, health: SerialHealth) -> LineParser:
    """The parser `section.protocol` asks for, reporting into `health`."""
    if section.protocol == "plain":
        return PlainParser(health, section.max_line_bytes, section.plain_units)
    return FramedParser(health, section.max_line_bytes)
