"""Camera sources behind one small interface; `open_source(spec)` picks the backend from the spec.

A source is polled: `poll()` returns the newest frame due now (older ones are skipped without
decoding where the backend allows), None when nothing new has arrived yet, and raises CameraError
when the source is gone or has ended. JPEG frame directories and MJPG video files hand out frames
still compressed (`JpegFrame`), decoded only if something looks at them; `read()` is `poll()` with
the image decoded. The grabber thread (edge.vision.frame_grabber) owns rate control, drop-out detection
and reconnects.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edge.errors import CameraError
from edge.hw.camera_files import FrameDirSource, VideoFileSource
from edge.hw.camera_live import LiveSource, StreamSource
from edge.hw.frames import Frame, FrameSource, JpegFrame, PolledFrame, as_polled_image, decoded

if TYPE_CHECKING:
    from edge.config.camera import CameraSection

__all__ = [
    "Frame",
    "FrameDirSource",
    "FrameSource",
    "JpegFrame",
    "LiveSource",
    "PolledFrame",
    "StreamSource",
    "VideoFileSource",
    "as_polled_image",
    "decoded",
    "limit_opencv_threads",
    "open_camera",
    "open_source",
]
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".mjpeg", ".mjpg", ".webm"}


def limit_opencv_threads() -> None:
    """One OpenCV thread: frame-sized resizes gain little from OpenCV's own pool, whose spinning
    workers would take cores from the interpreter's threads (XNNPACK)."""
    import cv2

    cv2.setNumThreads(1)


def open_source(
    spec: str,
    width: int | None = None,
    height: int | None = None,
    loop_file: bool = False,
    fourcc: str | None = None,
) -> FrameSource:
    """Choose the backend: directory of <unix ms>.jpg, video file, URL, or V4L2 device (index or path)."""
    path = Path(spec)
    if "://" in spec:
        return StreamSource(spec)
    if spec.isdigit() or spec.startswith("/dev/"):
        return LiveSource(spec, width, height, fourcc)
    if path.is_dir():
        return FrameDirSource(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path, loop=loop_file)
    raise CameraError(
        f"camera source {spec!r}: not a V4L2 index or /dev path, URL, existing frame directory or video file "
        f"({', '.join(sorted(VIDEO_SUFFIXES))}); fix [camera] source"
    )


def open_camera(settings: CameraSection) -> FrameSource:
    """The source a [camera] section describes."""
    return open_source(settings.source, settings.width, settings.height, settings.loop_file, settings.fourcc)
