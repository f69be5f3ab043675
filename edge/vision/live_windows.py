"""Plate windows in the live service (edge.vision.plate_crops): which plates are being handled now, and
their windows prepared on the grabber thread with the frame and run on the detector's thread after it.

    windows = LiveWindows(detector, regions, crop_scale=2.0, max_windows=1, hand_label="person")
    ready = windows.prepare(record.t, image)        # grabber thread, while it has the frame's pixels
    ran = windows.run(record, ready)                # worker, after the frame: stores record.windows

Replay knows the touched plates from the weight event; the live service must choose before the event ends,
from what it already has per frame: the grey difference inside each plate's region since the previous frame
it looked at (`PlateMotion`, the strided thumbnail of edge.vision.motion) and the hand boxes of the last frame
the detector ran on (`regions.touched_plates`). A plate is handled when at least `fraction` of its thumbnail
pixels changed by more than `pixel_delta`, or when a hand box of a frame at most `HAND_MEMORY_S` older
overlaps it; the `max_plates` most moved of those are chosen (ties in region order).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.model import Detection, PlateRegion
from edge.vision.geometry import point_in_polygon
from edge.vision.motion import MotionDetector
from edge.vision.plate_crops import Window, crop_window, in_frame, prepare_window
from edge.vision.regions import touched_plates

if TYPE_CHECKING:
    from edge.vision.detector import Detector, Prepared
    from edge.vision.ring import FrameRecord

log = logging.getLogger(__name__)
PlateWindow = tuple[str, Window, "Prepared"]  # plate, its window in frame pixels, the window's detector input
HAND_MEMORY_S = 1.0  # a hand seen over a plate in a frame this much older still marks it handled


class PlateMotion:
    """`update(frame)` -> the fraction of each plate's thumbnail pixels that changed since the previous
    frame given (all 0 for the first one, or after a change of frame size)."""

    def __init__(self, regions: Sequence[PlateRegion], pixel_delta: int = 25, width: int = 64) -> None:
        self.regions = list(regions)
        self.pixel_delta = pixel_delta
        self._thumb = MotionDetector(pixel_delta, width=width)
        self._previous: npt.NDArray[np.int16] | None = None
        self._masks: list[npt.NDArray[np.bool_]] = []
        self._shape: tuple[int, ...] = ()

    def update(self, frame: npt.NDArray[np.uint8]) -> dict[str, float]:
        grey = self._thumb.small_grey(frame)
        previous, self._previous = self._previous, grey
        if frame.shape[:2] != self._shape:  # (two frame sizes can share a thumbnail size)
            self._shape = frame.shape[:2]
            self._masks = self._region_masks(frame.shape[1], grey.shape)
            previous = None
        if previous is None:
            return {r.name: 0.0 for r in self.regions}
        moved = np.abs(grey - previous) > self.pixel_delta
        return {r.name: float(np.count_nonzero(moved & mask)) / max(int(np.count_nonzero(mask)), 1)
                for r, mask in zip(self.regions, self._masks, strict=True)}

    def reset(self) -> None:
        self._previous = None

    def _region_masks(self, frame_w: int, shape: tuple[int, ...]) -> list[npt.NDArray[np.bool_]]:
        """Per region, the thumbnail pixels whose frame pixel lies inside its polygon (once per frame size)."""
        step = max(1, frame_w // self._thumb.width)
        rows, cols = shape[0], shape[1]
        return [np.array([[point_in_polygon((x * step, y * step), r.polygon) for x in range(cols)]
                          for y in range(rows)], dtype=bool) for r in self.regions]


class HandledPlates:
    """The live service's chooser: `saw_hands` from the detector's thread, `choose` from the grabber's."""

    def __init__(self, regions: Sequence[PlateRegion], max_plates: int, hand_label: str, pixel_delta: int = 25,
                 fraction: float = 0.02) -> None:
        self.regions = list(regions)
        self.max_plates = max_plates
        self.hand_label = hand_label
        self.fraction = fraction
        self.motion = PlateMotion(regions, pixel_delta)
        self._lock = threading.Lock()
        self._hands: tuple[float, frozenset[str]] = (float("-inf"), frozenset())

    def saw_hands(self, t: float, detections: Iterable[Detection]) -> None:
        """The detector's result for the frame at `t` (unix s): the plates its hand boxes overlap."""
        touched = frozenset(touched_plates(detections, self.regions, self.hand_label))
        with self._lock:
            if t >= self._hands[0]:
                self._hands = (t, touched)

    def see(self, frame: npt.NDArray[np.uint8]) -> None:
        """A frame that gets no windows (idle): only keeps the motion reference fresh."""
        self.motion.update(frame)

    def choose(self, t: float, frame: npt.NDArray[np.uint8]) -> list[PlateRegion]:
        """The plates to run a window on for the frame at `t`: handled ones, most moved first, at most max_plates."""
        moved = self.motion.update(frame)
        with self._lock:
            hands_t, hands = self._hands
        if abs(t - hands_t) > HAND_MEMORY_S:
            hands = frozenset()
        handled = [r for r in self.regions if moved[r.name] >= self.fraction or r.name in hands]
        handled.sort(key=lambda r: -moved[r.name])  # stable: ties keep region order
        return handled[: self.max_plates]


class LiveWindows:
    """The chooser and the windows' preparing, running and releasing, for one detector."""

    def __init__(self, detector: Detector, regions: Sequence[PlateRegion], crop_scale: float, max_windows: int,
                 hand_label: str, pixel_delta: int = 25, fraction: float = 0.02) -> None:
        self.detector = detector
        self.crop_scale = crop_scale
        self.handled = HandledPlates(regions, max_windows, hand_label, pixel_delta, fraction)

    def see(self, frame: npt.NDArray[np.uint8]) -> None:
        self.handled.see(frame)

    def prepare(self, t: float, frame: npt.NDArray[np.uint8]) -> list[PlateWindow]:
        """Grabber thread: the windows of the plates being handled in the frame at `t`, as detector inputs."""
        height, width = frame.shape[:2]
        side = max(self.detector.input_w, self.detector.input_h)
        windows = []
        for region in self.handled.choose(t, frame):
            window = crop_window(region, width, height, self.crop_scale, side)
            windows.append((region.name, window, prepare_window(self.detector, frame, window)))
        return windows

    def run(self, record: FrameRecord, windows: Sequence[PlateWindow]) -> tuple[int, int]:
        """Worker, after the frame's own run (its detections not yet stored: readers take the windows once
        the frame is detected): each window, boxes in frame pixels, into `record.windows`. (windows run,
        windows that raised: logged with traceback, the rest given back unrun)."""
        found = dict(record.windows)
        ran = 0
        for index, (plate, window, prepared) in enumerate(windows):
            try:
                found[plate] = in_frame(self.detector.run(prepared), window)
            except Exception:  # counted by the caller; the frame keeps its own detections and the others'
                log.exception("detector failed on the %s window of frame %d", plate, record.seq)
                self.release(windows[index + 1:])
                record.windows = found
                return ran, 1
            ran += 1
        if windows:
            record.windows = found
        return ran, 0

    def release(self, windows: Sequence[PlateWindow]) -> None:
        for _, _, prepared in windows:
            self.detector.release(prepared)
