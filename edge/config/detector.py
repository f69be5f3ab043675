"""[detector]: the quantized detection model. (Owner: vision.)"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.config.base import Section


class DetectorSection(Section):
    model: Path
    labels: Path
    threads: int = Field(default=1, ge=1, le=8)
