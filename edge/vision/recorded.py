"""Recorded frames through the daemon's vision code, driven by a clock the caller gives (replay).

    camera = RecordedCamera(FrameDirectory(Path("run.frames")), config.camera, detector, regions)
    camera.advance(t_emit)                       # the frames the live ring would hold at t_emit
    up = camera.camera_ok(t_emit) and not camera.lost_during(t_start, t_end)   # up, and not lost meanwhile
    evidence = camera.evidence(t0, t1)           # {plate: PlateEvidence}, detector run on the window

The frames go into the vision service's `FrameRing` (bounded by `buffer_s`, its frame count and
`buffer_max_mb`) in time order as the capture's clock reaches them, so `evidence()` sees exactly the
frames the live ring would have held when the weight event was emitted: none newer than the clock,
none older than the look-back. Every frame of the window not yet analysed is run through the
`Detector` (a detector that keeps up with the active rate) and aggregated by `build_evidence`, with the
plate windows' detections merged as `VisionService.evidence` merges them (`plate_crops.analysed_frames`).
Nothing reads the wall clock, so a run is deterministic.

A frame source here is anything with `times_ms()` (sorted unix ms) and `load(ms)` (the compressed
frame): a `<unix ms>.jpg` directory (`FrameDirectory`) or, in the benchmark, the simulator's
rendered camera.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from edge.config.camera import CameraSection
from edge.errors import CameraError
from edge.model import PlateEvidence, PlateRegion
from edge.vision.evidence import build_evidence
from edge.vision.plate_crops import analysed_frames
from edge.vision.ring import FrameRecord, FrameRing, Undecoded

if TYPE_CHECKING:
    from edge.vision.detector import Detector

FRAME_FILE = re.compile(r"^(\d{10,16})\.jpe?g$", re.IGNORECASE)


class RecordedFrames(Protocol):
    def times_ms(self) -> Sequence[int]:
        """Unix ms of every frame, ascending."""
        ...

    def load(self, ms: int) -> Undecoded:
        """The frame at `ms`, still compressed (decoded only when looked at)."""
        ...


class FrameDirectory:
    """`<unix ms>.jpg` files (what `sim capture --frames` and `serial record --frames` write); other
    names and hidden files are ignored. Frames are read from disk when the clock reaches them."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            what = "is a file" if directory.exists() else "not found"
            raise CameraError(f"frame directory {directory}: {what}; --frames needs a directory of <unix ms>.jpg")
        self.directory = directory
        names = {int(m.group(1)): name for name in _names(directory) if (m := FRAME_FILE.match(name))}
        self._names = names
        self._times = sorted(names)

    def times_ms(self) -> Sequence[int]:
        return self._times

    def load(self, ms: int) -> Undecoded:
        from edge.hw.frames import JpegFrame

        path = self.directory / self._names[ms]
        try:
            data = np.fromfile(path, np.uint8)
        except OSError as exc:
            raise CameraError(f"{path}: unreadable ({exc.strerror or exc})") from None
        return JpegFrame(data, str(path))


def _names(directory: Path) -> list[str]:
    try:
        return [p.name for p in directory.iterdir() if not p.name.startswith(".")]
    except OSError as exc:
        raise CameraError(f"frame directory {directory}: cannot list it ({exc.strerror or exc})") from None


@dataclass(frozen=True, slots=True)
class RecordedCameraStats:
    frames_pushed: int  # frames the clock has reached (went into the ring)
    detected: int  # frames the detector ran on (whole frames)
    windows: int  # plate windows it ran on besides (crop_scale)
    detect_ms: float  # the CPU time of both (resize, invoke, output decoding; one interpreter thread)
    decode_ms: float  # the CPU time of the frames' JPEG decoding (or rendering) before that
    bad_frames: int  # corrupt frames skipped

    def to_json(self) -> dict[str, float | int]:
        return {"frames_pushed": self.frames_pushed, "detected": self.detected, "windows": self.windows,
                "detect_ms": round(self.detect_ms, 1),
                "decode_ms": round(self.decode_ms, 1), "bad_frames": self.bad_frames}


class RecordedCamera:
    """The ring, detector and evidence of the vision service over recorded frames; one thread."""

    def __init__(self, frames: RecordedFrames, settings: CameraSection, detector: Detector | None,
                 regions: Sequence[PlateRegion], hand_label: str = "person", min_overlap: float = 0.3,
                 crop_scale: float | None = None) -> None:
        self.frames = frames
        self.settings = settings
        self.detector = detector
        self.regions = list(regions)
        self.hand_label = hand_label
        self.min_overlap = min_overlap
        self.ring = FrameRing.for_camera(settings)
        self.crop_scale = crop_scale  # also detect on a window around each asked-for plate (FrameRecord.windows)
        self._times = frames.times_ms()
        self._next = 0  # index of the next frame to push
        self._last_t: float | None = None
        self._detected = 0
        self._detect_ns = 0
        self._bad = 0
        self._corrupt: set[int] = set()  # ring seqs of frames that would not decode
        self._decode_ns = 0
        self._windows = 0
        self._scratch = np.empty((1, 1, 3), np.uint8)  # decoded pixels of the frame being detected (not kept)

    def advance(self, now: float) -> None:
        """Push every frame with t <= now (unix s) into the ring, oldest first."""
        times, index = self._times, self._next
        limit = now * 1000.0
        while index < len(times) and times[index] <= limit:
            ms = times[index]
            try:
                frame = self.frames.load(ms)
            except CameraError:
                self._bad += 1
            else:
                self.ring.push(ms / 1000.0, frame)
                self._last_t = ms / 1000.0
            index += 1
        self._next = index

    def camera_ok(self, now: float) -> bool:
        """As the frame grabber would say at `now`: False when no frame came within `dropout_s` before it."""
        return self._last_t is not None and now - self._last_t <= self.settings.dropout_s

    def lost_during(self, t0: float, t1: float) -> bool:
        """Whether the frames of [t0, t1] (an event, while the node had the camera at its active rate) leave a
        gap longer than `max(1 s, 5 / active_fps)`, counting from t0 and up to t1: the camera was lost then,
        even if it is back by the time the event is emitted (the grabber would not have noticed yet)."""
        gap_ms = max(1.0, 5.0 / self.settings.active_fps) * 1000.0
        lo_ms, hi_ms = t0 * 1000.0, t1 * 1000.0
        times = self._times
        lo = int(np.searchsorted(times, lo_ms, "left"))
        hi = int(np.searchsorted(times, hi_ms, "right"))
        points = [lo_ms, *times[lo:hi], hi_ms]
        return any(b - a > gap_ms for a, b in pairwise(points))

    def evidence(self, t0: float, t1: float, plates: Collection[str] = ()) -> dict[str, PlateEvidence]:
        """Per plate with a region: what the camera saw in [t0, t1] among the frames now in the ring. With
        `crop_scale`, the detector also runs on a window around each of `plates` (the touched ones) per frame."""
        records = self.ring.frames_between(t0, t1)
        crop_regions = [r for r in self.regions if r.name in plates] if self.crop_scale else []
        for record in records:
            if record.seq not in self._corrupt and (
                    record.detections is None or any(r.name not in record.windows for r in crop_regions)):
                self._detect(record, crop_regions)
        analysed = analysed_frames(records, plates)
        return dict(build_evidence(analysed, self.regions, self.hand_label, self.min_overlap).evidence)

    def stats(self) -> RecordedCameraStats:
        return RecordedCameraStats(self._next, self._detected, self._windows, self._detect_ns / 1e6,
                                   self._decode_ns / 1e6, self._bad)

    def _detect(self, record: FrameRecord, crop_regions: Sequence[PlateRegion] = ()) -> None:
        from edge.vision.plate_crops import crop_window, detect_in_window

        detector = self.detector
        if detector is None:
            record.detections = ()
            return
        start = time.thread_time_ns()  # CPU time (a shared host inflates wall time), for the cost figures only
        try:
            image = record.image_once(self._scratch)
        except CameraError:  # a corrupt frame: skipped (as the service does), the window's others still count
            self._bad += 1
            self._corrupt.add(record.seq)
            return
        if not record.decoded and not np.may_share_memory(image, self._scratch):
            self._scratch = image  # decode the next frame into this buffer
        decoded = time.thread_time_ns()
        if record.detections is None:
            record.detections = tuple(detector.detect(image))
            self._detected += 1
        height, width = image.shape[:2]
        side = max(detector.input_w, detector.input_h)
        for region in crop_regions:
            if region.name not in record.windows:
                window = crop_window(region, width, height, self.crop_scale or 1.0, side)
                record.windows[region.name] = tuple(detect_in_window(detector, image, window))
                self._windows += 1
        self._decode_ns += decoded - start
        self._detect_ns += time.thread_time_ns() - decoded
