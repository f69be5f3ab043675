"""[camera]: the shelf camera source, frame-rate policy, look-back buffer and snapshots. (Owner: vision.)"""

from __future__ import annotations

from pydantic import Field, model_validator

from edge.config.base import KeyProblem, KeyProblems, Section, worded_pattern


class CameraSection(Section):
    source: str = Field(
        description=(
            "V4L2 index ('0') or device path (prefer /dev/v4l/by-id/...), rtsp:// or http:// URL, "
            "a video file, or a directory of JPEG frames named <unix ms>.jpg"
        )
    )
    idle_fps: float = Field(default=1.0, gt=0, le=60, description="Frame rate while the shelf is quiet.")
    active_fps: float = Field(
        default=10.0, gt=0, le=60, description="Frame rate while weight activity or motion is seen."
    )
    active_hold_s: float = Field(
        default=3.0, ge=0, description="Stay at the active rate this long after activity or motion ends."
    )
    buffer_s: float = Field(
        default=20.0,
        gt=0,
        le=30,
        description=(
            "Seconds of frames kept for look-back. The evidence of a weight event is read when it is emitted, "
            "which for a put held by [weighing] hold_s (7 s) comes that long after the change: the ring must "
            "hold the change, the hold and a second either side."
        ),
    )
    buffer_max_mb: float = Field(
        default=64.0,
        gt=0,
        description=(
            "Memory cap of the look-back buffer; the oldest frames go first past it. A compressed 640x480 "
            "frame takes 20-60 KB, a decoded one 0.9 MB (V4L2 cameras in YUYV, network streams)."
        ),
    )
    dropout_s: float = Field(
        default=5.0, gt=0, description="No frame for this long = camera lost (health camera_ok=false)."
    )
    retry_min_s: float = Field(default=1.0, gt=0, description="First reconnect delay after a drop-out.")
    retry_max_s: float = Field(default=30.0, gt=0, description="Reconnect delay doubles up to this.")
    loop_file: bool = Field(default=False, description="Replay a video file source forever (demos, benchmarks).")
    width: int | None = Field(default=None, gt=0, description="Requested capture width (live devices only).")
    height: int | None = Field(default=None, gt=0, description="Requested capture height (live devices only).")
    fourcc: str | None = Field(
        default=None,
        pattern=worded_pattern(r"^[A-Za-z0-9 ]{4}$", "4 letters, digits or spaces, e.g. \"MJPG\" or \"YUYV\""),
        description=(
            "Pixel format to ask a live V4L2 camera for, e.g. 'MJPG' (frames then stay compressed until "
            "looked at; USB webcams need it for 30 fps above 640x480) or 'YUYV'. Unset: the driver's choice."
        ),
    )
    motion_pixel_delta: int = Field(
        default=25, ge=1, le=255, description="Grey-level change that counts a downscaled pixel as moved."
    )
    motion_fraction: float = Field(
        default=0.02, gt=0, le=1, description="Fraction of moved pixels that counts as motion."
    )
    snapshot_max_count: int = Field(default=500, ge=1, description="Snapshots kept under state_dir/snapshots.")
    snapshot_max_bytes: int = Field(default=200_000_000, ge=10_000, description="Byte budget of the snapshots.")
    jpeg_quality: int = Field(default=85, ge=10, le=100, description="JPEG quality of stored snapshots.")

    @model_validator(mode="after")
    def _rates_are_ordered(self) -> CameraSection:
        problems = []
        if self.active_fps < self.idle_fps:
            problems.append(
                KeyProblem(("active_fps",), f"must be at least idle_fps ({self.idle_fps:g})", self.active_fps)
            )
        if self.retry_max_s < self.retry_min_s:
            problems.append(
                KeyProblem(("retry_max_s",), f"must be at least retry_min_s ({self.retry_min_s:g})", self.retry_max_s)
            )
        if problems:
            raise KeyProblems(problems)
        return self
