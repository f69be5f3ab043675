"""[camera]: the shelf camera source and frame-rate policy. (Owner: vision.)"""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Section


class CameraSection(Section):
    source: str = Field(description="V4L2 index or /dev/v4l/by-id/... path, rtsp:// URL, video file, frame dir")
