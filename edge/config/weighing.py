"""[weighing]: calibration defaults, stability and event detection. (Owner: weighing.)"""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Section


class WeighingSection(Section):
    counts_per_gram: float = Field(
        default=420.0, description="Default scale of every channel until a calibration is stored."
    )
    min_event_g: float = Field(default=10.0, gt=0, description="Smallest change reported as an event.")
