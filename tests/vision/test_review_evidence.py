"""Review pictures: chosen from remembered windows, ids reserved at once, drawn and stored later, bounded."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from edge.hw.canvas import decode_picture
from edge.vision.review_evidence import MAX_BYTES, MAX_WINDOWS, ReviewEvidence
from edge.vision.snapshots import SnapshotStore
from tests.fusion.helpers import one, stage

from .review_scene import APPLE_COLOUR, REGIONS, best_frames, records


def flagged_pick() -> object:
    item = one(stage(), {"p2": -1031.0})  # apple or carrot, 1 kg each: a twin weight cannot split
    assert item.review_required and "twin" in item.review_reasons
    return item


def review(tmp_path: Path, max_windows: int = MAX_WINDOWS, max_bytes: int = MAX_BYTES) -> ReviewEvidence:
    return ReviewEvidence(SnapshotStore(tmp_path / "snapshots"), REGIONS, "person", 0.3, 90, max_windows, max_bytes)


def test_a_flagged_pick_gets_best_before_after_and_hand_pictures(tmp_path: Path) -> None:
    evidence = review(tmp_path)
    frames = records()
    evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    plan = evidence.plan(flagged_pick())  # type: ignore[arg-type]
    assert plan is not None and set(plan.ids) == {"p2"}
    ids = plan.ids["p2"]
    assert all(ids[kind] is not None for kind in ("best", "before", "after", "hand"))
    assert len(set(ids.values())) == 4
    assert evidence.store.get(ids["before"] or "") is None  # reserved, not drawn yet: nothing on disk
    evidence.render(plan)
    pictures = {kind: decode_picture(evidence.store.get(sid or "") or b"", kind) for kind, sid in ids.items()}
    assert pictures["best"].shape == (240, 320, 3)  # the whole frame, drawn on
    # before/after: p2's region (157 x 170) with a 12 % margin, clipped to the frame
    assert pictures["before"].shape[:2] == pictures["after"].shape[:2]
    assert 170 <= pictures["before"].shape[0] <= 212 and 150 <= pictures["before"].shape[1] <= 200
    red = np.array(APPLE_COLOUR)

    def red_share(image: np.ndarray) -> float:
        return float((np.abs(image.astype(int) - red).sum(axis=2) < 60).mean())

    assert red_share(pictures["before"]) > red_share(pictures["after"]) * 1.3  # one apple fewer after
    hand = pictures["hand"]  # the held apple's box (34 px) with its margin
    assert 34 <= hand.shape[0] <= 44 and 34 <= hand.shape[1] <= 44
    assert red_share(hand) > 0.4
    assert evidence.counts["rendered"] == 4 and evidence.store.pending() == 0


def test_a_plate_where_no_label_was_seen_shows_the_change_as_its_best_frame(tmp_path: Path) -> None:
    """No label on the plate (a detector that saw nothing, SKUs without labels): the best frame is the one
    nearest the middle of the change, the hand over the plate, not the frame before or after it."""
    evidence = review(tmp_path)
    frames = records()
    evidence.remember(frames[0].t, frames[-1].t, frames, {})  # no best label for any plate
    item = flagged_pick()
    plan = evidence.plan(item)  # type: ignore[arg-type]
    assert plan is not None
    (best,) = [frame for sid, plate, kind, frame, _ in plan.jobs if kind == "best"]
    assert abs(best.t - (item.t_start + item.t_end) / 2) <= 0.05  # type: ignore[attr-defined]
    assert best is not frames[0] and best is not frames[-1]


def test_no_pictures_for_a_window_that_does_not_cover_the_item_or_a_plate_the_camera_does_not_see(
    tmp_path: Path,
) -> None:
    evidence = review(tmp_path)
    frames = records()
    late = [f for f in frames if f.t > frames[-1].t - 0.05]
    evidence.remember(late[0].t + 100, late[-1].t + 100, late, {})  # a window long after the pick
    assert evidence.plan(flagged_pick()) is None  # type: ignore[arg-type]
    unseen = ReviewEvidence(SnapshotStore(tmp_path / "other"), REGIONS[:1], "person", 0.3)
    unseen.remember(frames[0].t, frames[-1].t, frames, {})
    assert unseen.plan(flagged_pick()) is None  # type: ignore[arg-type]


def test_remembered_windows_are_bounded_by_count_and_bytes(tmp_path: Path) -> None:
    evidence = review(tmp_path, max_windows=3)
    frames = records()
    for _ in range(10):
        evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    assert len(evidence._windows) == 3
    per_window = evidence._windows[0].nbytes
    assert per_window <= 4 * 320 * 240 * 3  # at most four frames of the window are held
    tight = review(tmp_path, max_bytes=per_window * 2)
    for _ in range(10):
        tight.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    assert len(tight._windows) == 2 and tight._bytes <= per_window * 2


def test_a_reserved_picture_is_waited_for_and_an_abandoned_one_is_none(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    snapshot_id = store.reserve(1_790_000_000.0)
    got: list[bytes | None] = []
    reader = threading.Thread(target=lambda: got.append(store.get(snapshot_id, wait_s=10.0)))
    reader.start()
    store.fill(snapshot_id, b"\xff\xd8 a picture \xff\xd9")
    reader.join(10)
    assert got == [b"\xff\xd8 a picture \xff\xd9"] and store.pending() == 0
    given_up = store.reserve()
    store.abandon(given_up)
    assert store.get(given_up, wait_s=10.0) is None and store.pending() == 0
    assert snapshot_id in store.ids() and given_up not in store.ids()


SKIN = np.array((120, 170, 225))  # review_scene's hand


def skin_share(image: np.ndarray) -> float:
    return float((np.abs(image.astype(int) - SKIN).sum(axis=2) < 40).mean())


def test_the_after_picture_is_taken_a_second_after_the_change_settled_not_at_the_emission(tmp_path: Path) -> None:
    """The node gathers the evidence when the weight event is emitted, while the hand may still be over the
    plate: the worker takes the "after" crop from the ring's first frame 1 s after the change settled."""
    frames = records()
    item = flagged_pick()
    at_emission = [f for f in frames if f.t <= item.t_end - 0.2]  # type: ignore[attr-defined]  # the hand is there
    ring = lambda t: next((f for f in frames if f.t >= t - 1e-6), None)  # noqa: E731
    pictures = {}
    for name, frame_at in (("planned", None), ("later", ring)):
        evidence = ReviewEvidence(SnapshotStore(tmp_path / name), REGIONS, "person", 0.3, 90, frame_at=frame_at)
        evidence.remember(at_emission[0].t, at_emission[-1].t, at_emission, best_frames(at_emission))
        plan = evidence.plan(item)  # type: ignore[arg-type]
        assert plan is not None
        evidence.render(plan)
        pictures[name] = decode_picture(evidence.store.get(plan.ids["p2"]["after"] or "") or b"", name)
    assert skin_share(pictures["planned"]) > 0.02 and skin_share(pictures["later"]) == 0.0


def test_at_a_stop_the_worker_does_not_wait_for_a_later_frame(tmp_path: Path) -> None:
    import time

    frames = records()[:15]  # the camera stopped during the change: no frame will come after it
    evidence = ReviewEvidence(SnapshotStore(tmp_path / "s"), REGIONS, "person", 0.3, 90, frame_at=lambda t: None)
    evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    plan = evidence.plan(flagged_pick())  # type: ignore[arg-type]
    assert plan is not None
    evidence.stop_waiting()
    started = time.monotonic()
    evidence.render(plan)
    assert time.monotonic() - started < 1.0 and evidence.counts["rendered"] == 4  # the planned frames, at once


def test_the_item_in_the_hand_is_found_in_a_plate_window_too(tmp_path: Path) -> None:
    """The live service's plate windows see held items the whole frame misses: the hand picture uses them."""
    evidence = review(tmp_path)
    frames = records()
    for record in frames:
        own = record.detections or ()
        held = [d for d in own if d.score == 0.7]  # the apple in the hand (frames during the change)
        record.detections = tuple(d for d in own if d not in held)
        record.windows = {"p2": tuple(held)} if held else {}
    evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    plan = evidence.plan(flagged_pick())  # type: ignore[arg-type]
    assert plan is not None and plan.ids["p2"]["hand"] is not None
    evidence.render(plan)
    hand = decode_picture(evidence.store.get(plan.ids["p2"]["hand"] or "") or b"", "hand")
    assert 34 <= hand.shape[0] <= 44 and 34 <= hand.shape[1] <= 44
