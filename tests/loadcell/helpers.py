"""Builders shared by the load-cell tests: config sections, parsers with fresh health."""

from __future__ import annotations

from typing import Any

from edge.config.serial import SerialSection
from edge.loadcell.health import SerialHealth
from edge.loadcell.protocol import FramedParser, LineParser, PlainParser, make_parser


def section(**overrides: Any) -> SerialSection:
    values: dict[str, Any] = {"port": "loop://", "channels": 4}
    values.update(overrides)
    return SerialSection(**values)


def framed(channels: int = 4, **kwargs: Any) -> FramedParser:
    return FramedParser(SerialHealth(channels), **kwargs)


def plain(channels: int = 3, units: str = "counts") -> PlainParser:
    return PlainParser(SerialHealth(channels), units=units)


def parser_for(**overrides: Any) -> LineParser:
    config = section(**overrides)
    return make_parser(config, SerialHealth(config.channels))


def accounted(health: SerialHealth) -> int:
    """Lines the health counters account for; must equal health.lines."""
    return health.frames_ok + health.info_frames + health.errors + health.blank_lines
