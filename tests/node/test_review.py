"""Flagged item events through the node's ItemStep: review pictures named in the event (valid against the
schema), kept records (bounded, found by id or prefix), and the hub's cmd/snapshot serving the pictures."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from edge.config import NodeConfig
from edge.mqtt.commands import CommandRegistry
from edge.node.commands import NodeCommands
from edge.node.items import ItemStep
from edge.node.review import ReviewKeeper, ReviewLog
from edge.vision.review_evidence import ReviewEvidence
from edge.vision.snapshots import SnapshotStore
from tests.fusion.helpers import PLATES, T0, planogram, seen, weight_event
from tests.fusion.test_encode import envelope_problems
from tests.vision.review_scene import REGIONS, Stored, best_frames, records


def config(tmp_path: Path) -> NodeConfig:
    return NodeConfig.model_validate({
        "node": {"store_id": "s1", "node_id": "n1", "state_dir": str(tmp_path)},
        "serial": {"port": "loop://", "channels": 5},
        "plates": [{"name": name, "channels": [i]} for i, name in enumerate(PLATES)],
    })


class Outbox:
    """Stores what it is given, as Outbox.submit does, and answers with the stored event's id and seq."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def submit(self, kind: str, body: dict[str, Any], produced_at: float) -> Stored:
        self.events.append((kind, body))
        return Stored(f"6f1c1d1e-8a4e-4a55-9a35-{len(self.events):012d}", len(self.events))


def item_step(tmp_path: Path, camera: bool = True) -> tuple[ItemStep, Outbox, ReviewEvidence | None]:
    outbox = Outbox()
    step = ItemStep(config(tmp_path), outbox.submit, planogram=planogram())
    evidence = ReviewEvidence(SnapshotStore(tmp_path / "snapshots"), REGIONS, "person", 0.3) if camera else None
    step.review = ReviewKeeper(tmp_path, evidence)
    return step, outbox, evidence


def test_a_flagged_pick_names_its_pictures_and_is_kept_and_an_accepted_one_is_not(tmp_path: Path) -> None:
    step, outbox, evidence = item_step(tmp_path)
    assert evidence is not None and step.review is not None
    frames = records()
    evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    step.weight_event(weight_event({"p2": -1031.0}), seen("p2"), True, T0 + 1.1, "ev-1", 1)  # twin: flagged
    step.weight_event(weight_event({"p3": -32.0}, t=30.0), None, True, T0 + 31.1, "ev-2", 2)  # gum: accepted
    step.flush()
    step.review.stop()
    (_, flagged), (_, accepted) = outbox.events
    assert flagged["review"]["required"] and not accepted["review"]["required"]
    ids = flagged["evidence"]["review_snapshots"]["p2"]
    assert set(ids) == {"best", "before", "after", "hand"} and all(ids.values())
    assert "review_snapshots" not in accepted["evidence"]
    assert envelope_problems(flagged) == [] and envelope_problems(accepted) == []
    assert envelope_problems({**flagged, "evidence": {**flagged["evidence"], "review_snapshots": {"p2": {
        "best": "../etc/passwd", "before": None, "after": None, "hand": None}}}})  # ids are ids, nothing else
    assert all((evidence.store.get(sid) or b"")[:2] == b"\xff\xd8" for sid in ids.values())
    kept = ReviewLog(tmp_path / "review").recent()
    assert [r["seq"] for r in kept] == [1] and kept[0]["body"] == flagged
    slice_ = kept[0]["planogram"]
    assert slice_["plates"] == {"p2": ["APPLE-1KG", "CARROT-1KG"]} and slice_["id"] == "pg-test"
    assert slice_["catalogue"]["CARROT-1KG"]["unit_weight_g"] == 1035.0
    assert step.review.status().to_json() == {  # stats.parts.review
        "flagged": 1, "queued": 0, "dropped": 0, "pictures_planned": 1, "pictures_rendered": 4, "picture_errors": 0,
        "records_kept": 1, "record_errors": 0, "records_stored": 1}


def test_without_a_camera_the_flagged_event_is_kept_without_pictures(tmp_path: Path) -> None:
    step, outbox, _ = item_step(tmp_path, camera=False)
    step.weight_event(weight_event({"p2": -1031.0}), None, None, T0 + 1.1, "ev-1", 1)
    step.flush()
    assert step.review is not None
    step.review.stop()
    (_, body), = outbox.events
    assert body["review"]["required"] and "review_snapshots" not in body["evidence"]
    assert ReviewLog(tmp_path / "review").find(Stored(f"6f1c1d1e-8a4e-4a55-9a35-{1:012d}").event_id) is not None
    status = step.review.status()
    assert (status.flagged, status.pictures_planned, status.pictures_rendered, status.records_kept) == (1, 0, 0, 1)


def test_a_record_that_cannot_be_written_is_counted_and_the_event_still_goes_out(tmp_path: Path) -> None:
    (tmp_path / "review").write_text("a file where the records' directory should be")
    step, outbox, _ = item_step(tmp_path, camera=False)
    step.weight_event(weight_event({"p2": -1031.0}), None, None, T0 + 1.1, "ev-1", 1)
    step.flush()
    assert step.review is not None
    step.review.stop()
    assert len(outbox.events) == 1
    status = step.review.status()
    assert (status.flagged, status.records_kept, status.record_errors, status.records_stored) == (1, 0, 1, 0)


def test_the_log_is_bounded_and_found_by_id_or_prefix(tmp_path: Path) -> None:
    log = ReviewLog(tmp_path / "review", max_records=3)
    keys = [f"{i}{i}{i}{i}{i}{i}{i}{i}-8a4e-4a55-9a35-1f2b3c4d5e6f" for i in range(1, 6)]
    for n, key in enumerate(keys):
        log.keep(key, {"event_id": key, "seq": n}, now=T0 + n)
    assert [r["seq"] for r in log.recent()] == [4, 3, 2]
    assert log.find(keys[0]) is None  # the oldest went first
    assert log.find(keys[4][:8]) == {"event_id": keys[4], "seq": 4}
    assert log.find("5555") is None  # under 8 characters, only a whole key is taken
    log.keep("55555555-0000-4a55-9a35-1f2b3c4d5e6f", {"seq": 9}, now=T0 + 9)
    with pytest.raises(ValueError, match="names 2 kept events"):
        log.find("55555555")
    with pytest.raises(ValueError, match="not an event_id"):
        log.keep("../../etc/passwd", {})


def test_the_hub_fetches_a_review_picture_even_while_it_is_still_being_drawn(tmp_path: Path) -> None:
    import base64
    import json

    from edge.weighing.weigher import Weigher

    store = SnapshotStore(tmp_path / "snapshots")
    registry = CommandRegistry()
    NodeCommands(PLATES, Weigher(config(tmp_path)), camera=_NoCamera(), snapshots=store).register(registry)
    pending = store.reserve(T0)
    request = json.dumps({"params": {"event_snapshot": pending}}).encode()
    answers: list[Any] = []
    asking = threading.Thread(target=lambda: answers.append(registry.dispatch("snapshot", request)))
    asking.start()
    store.fill(pending, b"\xff\xd8 drawn \xff\xd9")
    asking.join(10)
    (answer,) = answers
    assert answer["ok"] and base64.b64decode(answer["result"]["jpeg_base64"]) == b"\xff\xd8 drawn \xff\xd9"
    given_up = store.reserve(T0)
    store.abandon(given_up)
    refused = registry.dispatch("snapshot", json.dumps({"params": {"event_snapshot": given_up}}).encode())
    assert not refused["ok"] and "no stored snapshot" in refused["error"]["message"]


class _NoCamera:
    def snapshot(self, annotate: bool = True) -> bytes:
        raise AssertionError("a stored id must not take a fresh frame")


class SlowEvidence(ReviewEvidence):
    """Review pictures drawn by a worker that is stuck until the test lets it go (a detector-loaded Pi)."""

    def __init__(self, store: SnapshotStore) -> None:
        super().__init__(store, REGIONS, "person", 0.3)
        self.gate = threading.Event()

    def render(self, plan: Any) -> None:
        self.gate.wait(10)
        super().render(plan)


def test_flagged_events_beyond_the_queue_give_their_pictures_up_and_are_counted(tmp_path: Path) -> None:
    from edge.node.review import QUEUE_SIZE

    evidence = SlowEvidence(SnapshotStore(tmp_path / "snapshots"))
    frames = records()
    evidence.remember(frames[0].t, frames[-1].t, frames, best_frames(frames))
    outbox = Outbox()
    step = ItemStep(config(tmp_path), outbox.submit, planogram=planogram())
    keeper = step.review = ReviewKeeper(tmp_path, evidence)
    for n in range(QUEUE_SIZE + 4):  # the same pick over and over (one weight event each): all flagged twins
        step.weight_event(weight_event({"p2": -1031.0}), seen("p2"), True, T0 + 1.1 + n * 0.001, f"ev-{n}", n)
    step.flush()
    assert len(outbox.events) == QUEUE_SIZE + 4  # every item event went out, with its ids, on time
    assert keeper.counts["dropped"] >= 3 and evidence.counts["abandoned"] == keeper.counts["dropped"]
    last_ids = outbox.events[-1][1]["evidence"]["review_snapshots"]["p2"]
    assert evidence.store.get(last_ids["best"] or "", wait_s=0.5) is None  # given up: "no stored snapshot"
    evidence.gate.set()
    keeper.stop()
    first_ids = outbox.events[0][1]["evidence"]["review_snapshots"]["p2"]
    assert evidence.store.get(first_ids["best"] or "") is not None
    assert keeper.counts["kept"] == QUEUE_SIZE + 4 - keeper.counts["dropped"]
    status = keeper.status()
    assert status.flagged == QUEUE_SIZE + 4 and status.dropped == keeper.counts["dropped"] and status.queued == 0
    assert status.records_kept == status.records_stored == QUEUE_SIZE + 4 - status.dropped
    assert status.pictures_rendered == 4 * status.records_kept and status.picture_errors == 0
