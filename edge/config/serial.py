"""[serial]: the load-cell microcontroller's port and protocol. (Owner: load-cell serial path.)"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.config.base import Section


class SerialSection(Section):
    port: str = Field(
        description="Device path or pyserial URL: /dev/serial/by-id/..., /dev/ttyUSB0, socket://h:p, loop://",
    )
    baudrate: int = Field(default=115200, gt=0)
    protocol: Literal["framed", "plain"] = "framed"
    channels: int = Field(default=8, ge=1, le=32, description="Number of load-cell channels in a frame.")
    plain_units: Literal["counts", "grams"] = Field(
        default="counts", description="What the numbers of the plain protocol are."
    )
