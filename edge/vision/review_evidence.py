"""Pictures for a reviewer, made only for item events that fusion flags for review.

    review = ReviewEvidence(store, regions, hand_label, min_overlap, jpeg_quality)
    review.remember(t0, t1, records, best_frame)   # VisionService.evidence(): keeps a few frames (cheap)
    plan = review.plan(item)                       # the flag is known: ids reserved, frames chosen (cheap)
    plan.ids                                       # {plate: {"best", "before", "after", "hand"}} for the event
    review.render(plan)                            # a worker: draw, crop, encode, store (the heavy part)

`remember` runs on the processing thread inside `evidence()` and only keeps references to at most
five frames per plate of each window: the first (before the change began, the window opens 1 s
earlier), the last (after it settled), the one nearest the window's middle (the change itself: the
best frame of a plate where no label was seen), the plate's best frame (its best-scoring label) and the
frame showing an item in a hand on or over the plate. The windows are bounded by count and by the frames'
bytes (`max_windows`, `max_bytes`), so a flag that never comes costs nothing but that memory.

`plan` reserves the snapshot ids at once, so they go into the item event before it is stored;
`render` draws the best frame (plate regions and detections, the flagged plate outlined), crops the
plate's region from the before and after frames and the item from the hand frame, encodes them as
JPEG and fills the ids. A hub asking for an id before it is filled waits (SnapshotStore.get wait_s).

The window's last frame is the newest one when the weight event was emitted, a few tenths of a second
after the plate settled, when the hand often still holds the item over it. Given `frame_at` (the ring's
first frame at or after a time), `render` takes the "after" picture from the first frame `AFTER_S` after
the change settled instead, waiting for it at most `AFTER_WAIT_S` (the ring keeps 4 s; at a stop it does
not wait: `stop_waiting()`), and keeps the planned frame when none comes (the camera went down).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.errors import CameraError
from edge.model import Detection, ItemEvent, PlateRegion
from edge.vision.plate_crops import merged_detections
from edge.vision.regions import plate_of
from edge.vision.ring import FrameRecord, Image
from edge.vision.snapshots import SnapshotStore

log = logging.getLogger(__name__)

KINDS = ("best", "before", "after", "hand")
CROP_MARGIN = 0.12  # of the crop's size, on each side
MAX_WINDOWS = 12
MAX_BYTES = 24 << 20  # frames held for a flag that may come (compressed 640x480: ~50 KB each)
DECODED_BYTES = 640 * 480 * 3  # what a held decoded frame is counted as when its size is unknown
AFTER_S = 1.0  # the "after" picture: this long after the change settled (the node's evidence margin)
AFTER_WAIT_S = 2.5  # ... waited for at most this long by the worker (an idle camera sends 1 frame/s)


@dataclass(frozen=True, slots=True)
class _Window:
    t0: float
    t1: float
    before: FrameRecord | None
    after: FrameRecord | None
    middle: FrameRecord | None  # nearest the window's middle: the change (the window is 1 s wider each side)
    best: dict[str, FrameRecord]  # plate -> its best frame
    hand: dict[str, tuple[FrameRecord, Detection]]  # plate -> the frame and the item detection in a hand
    nbytes: int


@dataclass(slots=True)
class ReviewPlan:
    """The ids one flagged item event names, and the frames that will fill them."""

    ids: dict[str, dict[str, str | None]]  # plate -> kind -> snapshot id (None: no such frame)
    jobs: list[tuple[str, str, str, FrameRecord, Detection | None]] = field(default_factory=list)
    # (snapshot id, plate, kind, frame, item box for "hand")
    t_after: float = 0.0  # when the "after" picture should be taken (the item's t_end + AFTER_S)


class ReviewEvidence:
    def __init__(self, store: SnapshotStore, regions: Sequence[PlateRegion], hand_label: str, min_overlap: float,
                 jpeg_quality: int = 85, max_windows: int = MAX_WINDOWS, max_bytes: int = MAX_BYTES,
                 frame_at: Callable[[float], FrameRecord | None] | None = None) -> None:
        self.store = store
        self.frame_at = frame_at  # the ring's first frame at or after a time (None: the planned frame only)
        self._no_wait = threading.Event()
        self.regions = list(regions)
        self.hand_label = hand_label
        self.min_overlap = min_overlap
        self.jpeg_quality = jpeg_quality
        self.max_windows = max_windows
        self.max_bytes = max_bytes
        self._boxes = {r.name: _bounds(r) for r in self.regions}  # each plate's bounding box, for quick tests
        self._windows: deque[_Window] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(("planned", "rendered", "render_errors", "abandoned"), 0)

    # -- processing thread -----------------------------------------------------------------------------
    def remember(self, t0: float, t1: float, records: Sequence[FrameRecord], best_frame: Mapping[str, int]) -> None:
        """Keep what a flag for this window would need (references, no copies, no decoding)."""
        if not records or not self.regions:
            return
        by_seq = {r.seq: r for r in records}
        best = {plate: by_seq[seq] for plate, seq in best_frame.items() if seq in by_seq}
        hand = self._items_in_hands(records)
        middle = min(records, key=lambda r: abs(r.t - (t0 + t1) / 2))
        kept = {id(r): r for r in (records[0], records[-1], middle, *best.values(), *(f for f, _ in hand.values()))}
        window = _Window(t0, t1, records[0], records[-1], middle, best, hand,
                         sum(_nbytes(r) for r in kept.values()))
        with self._lock:
            self._windows.append(window)
            self._bytes += window.nbytes
            while len(self._windows) > 1 and (len(self._windows) > self.max_windows or self._bytes > self.max_bytes):
                self._bytes -= self._windows.popleft().nbytes

    def plan(self, item: ItemEvent) -> ReviewPlan | None:
        """Reserve the ids of a flagged item's pictures: per plate it changed that the camera sees, the best
        frame, before, after and item-in-hand crops. None when no remembered window covers the item."""
        plates = [c.plate for c in item.changes if any(r.name == c.plate for r in self.regions)]
        with self._lock:
            windows = [w for w in self._windows if w.t0 <= item.t_end and w.t1 >= item.t_start]
        if not plates or not windows:
            if plates:  # a camera sees them, but it had no frame of the item's time (down, or behind)
                log.warning("flagged item %.3f..%.3f on %s: no review pictures, no camera frame in its window",
                            item.t_start, item.t_end, ",".join(plates))
            return None
        plan = ReviewPlan({}, t_after=item.t_end + AFTER_S)
        for plate in plates:
            chosen: dict[str, tuple[FrameRecord, Detection | None] | None] = {
                "best": _first((w.best[plate], None) for w in windows if plate in w.best),
                "before": _first((w.before, None) for w in windows if w.before is not None),
                "after": _first((w.after, None) for w in reversed(windows) if w.after is not None),
                "hand": _first(w.hand[plate] for w in windows if plate in w.hand),
            }
            if chosen["best"] is None:  # no label on this plate: the frame in the middle of the change
                middle = (item.t_start + item.t_end) / 2
                frames = [f for w in windows for f in (w.before, w.middle, w.after) if f is not None]
                chosen["best"] = (min(frames, key=lambda f: abs(f.t - middle)), None) if frames else None
            plan.ids[plate] = {}
            for kind in KINDS:
                picked = chosen[kind]
                if picked is None:
                    plan.ids[plate][kind] = None
                    continue
                snapshot_id = self.store.reserve(picked[0].t)
                plan.ids[plate][kind] = snapshot_id
                plan.jobs.append((snapshot_id, plate, kind, picked[0], picked[1]))
        self.counts["planned"] += 1
        return plan

    def abandon(self, plan: ReviewPlan) -> None:
        """The plan will not be rendered (the renderer is too far behind): its ids say 'not stored'."""
        for snapshot_id, *_ in plan.jobs:
            self.store.abandon(snapshot_id)
        self.counts["abandoned"] += 1

    # -- the worker ------------------------------------------------------------------------------------
    def render(self, plan: ReviewPlan) -> None:
        """Draw, crop, encode and store every picture of the plan; one that fails is abandoned (logged)."""
        later: FrameRecord | None = None
        looked = False
        for snapshot_id, plate, kind, record, box in plan.jobs:
            if kind == "after" and record.t < plan.t_after:
                if not looked:  # once per event: its plates share the frame
                    later, looked = self._frame_after(plan.t_after), True
                # a frame long after (the worker fell behind the ring) may show the next handling: keep the plan's
                if later is not None and record.t < later.t <= plan.t_after + AFTER_WAIT_S:
                    record = later
            try:
                self.store.fill(snapshot_id, self._picture(plate, kind, record, box))
                self.counts["rendered"] += 1
            except (CameraError, OSError) as exc:  # a corrupt frame, a full disk: the other pictures still count
                self.store.abandon(snapshot_id)
                self.counts["render_errors"] += 1
                log.warning("review picture %s (%s of %s) not stored: %s", snapshot_id, kind, plate, exc)

    def stop_waiting(self) -> None:
        """A stop: render what is planned without waiting for later frames."""
        self._no_wait.set()

    def _frame_after(self, t: float) -> FrameRecord | None:
        """The ring's first frame at or after `t`, waiting for it at most AFTER_WAIT_S (worker thread)."""
        if self.frame_at is None:
            return None
        deadline = time.monotonic() + AFTER_WAIT_S
        while True:
            frame = self.frame_at(t)
            if frame is not None or self._no_wait.is_set() or time.monotonic() >= deadline:
                return frame
            self._no_wait.wait(0.05)

    def _picture(self, plate: str, kind: str, record: FrameRecord, box: Detection | None) -> bytes:
        from edge.hw.canvas import outline
        from edge.hw.draw import annotate, encode_jpeg

        image = record.image
        if kind == "best":
            drawn = annotate(image, merged_detections(record) or (), self.regions, self.hand_label)
            region = next(r for r in self.regions if r.name == plate)
            return encode_jpeg(outline(drawn, region.polygon), self.jpeg_quality)
        if kind == "hand" and box is not None:
            x1, y1, x2, y2 = box.box
        else:
            x1, y1, x2, y2 = self._boxes[plate]
        return encode_jpeg(_crop(image, (x1, y1, x2, y2)), self.jpeg_quality)

    def _items_in_hands(self, records: Sequence[FrameRecord]) -> dict[str, tuple[FrameRecord, Detection]]:
        """Plate -> the best-scoring non-hand detection whose box meets a hand's box, in a frame where that
        hand reaches over the plate's bounding box (or the item lies on the plate). Box tests only: this runs
        for every weight event, on the processing thread."""
        found: dict[str, tuple[FrameRecord, Detection]] = {}
        for record in records:
            detections = merged_detections(record) or ()  # with its plate windows': the item is often seen there
            hands = [d.box for d in detections if d.label == self.hand_label]
            if not hands:
                continue
            for detection in detections:
                if detection.label == self.hand_label or not any(_meets(detection.box, h) for h in hands):
                    continue
                plates = {name for name, box in self._boxes.items() if any(_meets(box, h) for h in hands)}
                on = plate_of(detection, self.regions, self.min_overlap)
                if on is not None:
                    plates.add(on)
                for plate in plates:
                    if plate not in found or detection.score > found[plate][1].score:
                        found[plate] = (record, detection)
        return found


def _first(items: Iterable[tuple[FrameRecord, Detection | None]]) -> tuple[FrameRecord, Detection | None] | None:
    return next(iter(items), None)


def _bounds(region: PlateRegion) -> tuple[int, int, int, int]:
    xs, ys = [p[0] for p in region.polygon], [p[1] for p in region.polygon]
    return int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))


def _meets(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _crop(pixels: Image, box: tuple[int, int, int, int]) -> Image:
    height, width = pixels.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = round((x2 - x1) * CROP_MARGIN), round((y2 - y1) * CROP_MARGIN)
    x1, y1 = max(0, x1 - mx), max(0, y1 - my)
    x2, y2 = min(width, x2 + mx), min(height, y2 + my)
    if x2 - x1 < 2 or y2 - y1 < 2:
        raise CameraError(f"crop {box} is outside the {width}x{height} frame")
    return np.ascontiguousarray(pixels[y1:y2, x1:x2])


def _nbytes(record: FrameRecord) -> int:
    return record.nbytes or DECODED_BYTES
