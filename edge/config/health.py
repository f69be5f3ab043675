"""[health]: when a part that cannot recover by itself stops the systemd watchdog (docs/control-socket.md)."""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Section


class HealthSection(Section):
    """When the watchdog stops (systemd then restarts the service); every other failure only degrades the node."""

    serial_stall_s: float = Field(
        default=60.0, ge=1, le=3600,
        description="No weight frame this long with the serial port open (the board hangs): stop the watchdog.",
    )
    detector_fatal_after_s: float = Field(
        default=120.0, ge=1, le=86400,
        description="The detector failing this long and still failing (a wedged runtime): stop the watchdog.",
    )
