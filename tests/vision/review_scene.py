"""A small, seeded shelf scene for the review tests: a pick from plate p2 seen by the camera.

Frames at 10 fps from 1 s before the change (T0) to 1 s after it settled (T0 + 1): three apples on p2
before, a hand holding one over p2 during the change, two apples after. Detections are set on the
frames as the detector would have left them (apples on p2; the hand as `person` with the apple in it).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from edge.model import Detection, PlateRegion
from edge.vision.ring import FrameRecord, FrameRing
from tests.fusion.helpers import T0

WIDTH, HEIGHT = 320, 240
REGIONS = [
    PlateRegion("p1", ((0.0, 60.0), (158.0, 60.0), (158.0, 230.0), (0.0, 230.0))),
    PlateRegion("p2", ((162.0, 60.0), (319.0, 60.0), (319.0, 230.0), (162.0, 230.0))),
]
APPLES = [(190, 180), (235, 185), (280, 178)]  # centres on p2, radius 16
IN_HAND = (240, 40)  # the lifted apple's centre during the change (above the plate)
HAND_BOX = (205, 0, 300, 90)
APPLE_COLOUR = (40, 40, 210)  # BGR red


def background(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    image[:] = (150, 160, 165)
    image[60:232, :] = (110, 120, 128)  # the shelf board under the plates
    noise = rng.integers(-6, 7, size=image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def _apple(image: np.ndarray, centre: tuple[int, int]) -> Detection:
    yy, xx = np.ogrid[:HEIGHT, :WIDTH]
    image[(xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= 16 ** 2] = APPLE_COLOUR
    x, y = centre
    return Detection("apple", 52, 0.8, (x - 17, y - 17, x + 17, y + 17))


@functools.cache
def frame(phase: str, seed: int = 7) -> tuple[np.ndarray, tuple[Detection, ...]]:
    """One picture per phase (frames of a phase share it, read-only, as the ring never writes to them)."""
    image = background(seed)
    if phase == "before":
        return image, tuple(_apple(image, c) for c in APPLES)
    if phase == "after":
        return image, tuple(_apple(image, c) for c in APPLES[:2])
    detections = [_apple(image, c) for c in APPLES[:2]]
    x1, y1, x2, y2 = HAND_BOX
    image[y1:y2, x1:x2] = (120, 170, 225)  # a skin-coloured hand
    held = _apple(image, IN_HAND)
    held = Detection("apple", 52, 0.7, held.box)
    return image, (*detections, Detection("person", 0, 0.9, HAND_BOX), held)


def records(seed: int = 7) -> list[FrameRecord]:
    """The window's frames, oldest first, with their detections."""
    ring = FrameRing(10.0)
    out = []
    for i in range(31):
        t = T0 - 1.0 + i * 0.1
        phase = "before" if t < T0 else "after" if t > T0 + 1.0 else "during"
        image, detections = frame(phase, seed)
        record = ring.push(t, image)
        record.detections = detections
        out.append(record)
    return out


def best_frames(frames: list[FrameRecord]) -> dict[str, int]:
    """As build_evidence would say: p2's best label is in its first frame (score 0.8)."""
    return {"p2": frames[0].seq}


EVENT_ID = "6f1c1d1e-8a4e-4a55-9a35-1f2b3c4d5e6f"


class Stored:
    """What Outbox.submit returns for a stored event (edge.outbox.store.EnvelopeInfo's fields used)."""

    def __init__(self, event_id: str = EVENT_ID, seq: int = 7) -> None:
        self.event_id, self.seq = event_id, seq


def kept_pick(state_dir: Path, seed: int = 7, camera: bool = True) -> dict:
    """A flagged pick (apple or carrot on p2, a twin) kept the way the node keeps it: the record in
    state_dir/review, its pictures in state_dir/snapshots. Returns the record."""
    from edge.fusion import item_event_to_dict
    from edge.node.review import ReviewKeeper
    from edge.vision.review_evidence import ReviewEvidence
    from edge.vision.snapshots import SnapshotStore
    from tests.fusion.helpers import one, planogram, seen, stage

    evidence = None
    if camera:
        evidence = ReviewEvidence(SnapshotStore(state_dir / "snapshots"), REGIONS, "person", 0.3, 90)
        frames = records(seed)
        evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    item = one(stage(), {"p2": -1031.0}, seen("p2") if camera else None, camera_ok=True if camera else None)
    keeper = ReviewKeeper(state_dir, evidence)
    body = item_event_to_dict(item)
    keeper.submitted(keeper.prepare(item, body), Stored(), planogram())
    keeper.stop()
    record = keeper.log.find(EVENT_ID)
    assert record is not None
    return record
