"""[serial]: the load-cell microcontroller's port and protocol. (Owner: load-cell serial path.)

All checks live here, so a bad value is reported once, with its key path, by the loader.
The protocol itself is described in docs/serial-protocol.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import Section, problem_at


class SerialSection(Section):
    port: str = Field(
        description=(
            "Device path or pyserial URL. Prefer the stable /dev/serial/by-id/usb-... link (it survives "
            "replugging into another USB socket; `ls -l /dev/serial/by-id/` lists them); /dev/ttyUSB0, a pty path, "
            "socket://host:port and loop:// also work."
        ),
    )
    baudrate: int = Field(
        default=115200, ge=300, le=4_000_000, description="Line speed; must match the sketch's Serial.begin()."
    )
    protocol: Literal["framed", "plain"] = Field(
        default="framed",
        description="'framed' ($W,seq,ms,c1..cN*HH with checksum) or 'plain' (N numbers per line, no checks).",
    )
    channels: int = Field(default=8, ge=1, le=32, description="Number of load-cell channels in a frame.")
    plain_units: Literal["counts", "grams"] = Field(
        default="counts", description="What the numbers of the plain protocol are."
    )
    read_timeout_s: float = Field(
        default=0.1,
        gt=0,
        le=1.0,
        description="Longest blocking read; bounds how fast the reader notices stop() and a vanished device.",
    )
    backoff_min_s: float = Field(default=0.5, gt=0, description="First delay before reopening a lost port.")
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest delay between reopen attempts.")
    max_line_bytes: int = Field(
        default=256, ge=32, le=4096, description="Longer lines are counted as 'too_long' and dropped."
    )
    stuck_frames: int = Field(
        default=50,
        ge=2,
        description="A channel reporting the identical value this many frames in a row is flagged as stuck.",
    )
    query_on_open: bool = Field(
        default=True, description="Framed protocol: send $Q after (re)opening to get the info frame."
    )

    @model_validator(mode="after")
    def _backoff_ordered(self) -> SerialSection:
        if self.backoff_min_s > self.backoff_max_s:
            raise problem_at(
                "backoff_max_s",
                f"must be at least backoff_min_s ({self.backoff_min_s:g}); swap them or raise backoff_max_s",
                self.backoff_max_s,
            )
        return self
