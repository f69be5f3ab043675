"""The node's side of reviewers' answers (edge/node/answers.py), through the real ItemStep, fusion stage,
gallery feed and outbox: an answer sets fusion's shelf state right and joins the outcome record, which
survives a restart, is bounded, and is moved aside (with an error logged) when it does not parse; the
published confidence is lowered only where the record shows fusion over-confident, never raised."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.fusion.reliability import Outcome, ReliabilitySettings
from edge.gallery import ItemRecord, ReviewAnswer
from edge.model import ItemEvent, PlateEvidence, WeightEvent
from edge.node.answers import STATE_FILE, AnswerFeedback, load_record
from edge.node.gallery_feed import GalleryFeed
from edge.node.items import ItemStep
from edge.node.wiring import make_feedback
from edge.outbox import EnvelopeInfo, Outbox
from tests.node.gallery_items import T0, node_config, planogram
from tests.plugins.waiting import wait_until


@dataclass
class Shelf:
    items: ItemStep
    feed: GalleryFeed
    feedback: AnswerFeedback
    outbox: Outbox
    state: Path
    event_ids: list[str]

    def submit(self, kind: str, body: dict[str, Any], produced_at: float) -> EnvelopeInfo | None:
        info = self.outbox.submit(kind, body, produced_at)
        assert info is not None
        self.event_ids.append(info.event_id)
        return info


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[Shelf]:
    config = node_config(tmp_path)
    outbox = Outbox(tmp_path / "outbox.sqlite3", config.outbox)
    items = ItemStep(config, None, planogram())
    feed = GalleryFeed(config, None, planogram=lambda: items.planogram)
    items.on_item = feed.on_item
    feedback = make_feedback(config, items, feed)
    shelf = Shelf(items, feed, feedback, outbox, config.node.state_dir, [])
    items.submit = shelf.submit
    feed.start()
    try:
        yield shelf
    finally:
        feed.stop()
        outbox.close()


def apple_on(plate: str) -> dict[str, PlateEvidence]:
    return {plate: PlateEvidence(plate, {"apple": (0.8, 0.7)}, 20, True)}


def weigh(shelf: Shelf, plate: str, grams: float, t: float) -> tuple[str, ItemEvent]:
    """One weight event through the node's ItemStep; (the item event's outbox event_id, the item)."""
    event = WeightEvent(T0 + t, T0 + t + 1.0, {plate: grams}, grams, 0.5, "settled")
    (item,) = shelf.items.weight_event(event, apple_on(plate), True, T0 + t + 1.1) + shelf.items.flush()
    event_id = shelf.event_ids[-1]
    assert wait_until(lambda: shelf.feed.ledger.item(event_id) is not None)  # the gallery remembers it
    return event_id, item


def test_an_answer_sets_fusions_state_and_is_recorded_across_a_restart(shelf: Shelf) -> None:
    event_id, put = weigh(shelf, "p2", 184.0, 0.0)  # an apple left on the juice plate: which apple?
    assert put.action == "put" and put.misplaced and put.review_required
    truth = "APPLE-PL" if put.lines[0].sku == "APPLE-GS" else "APPLE-GS"
    result = shelf.feed.review_answer({"event_id": event_id, "lines": [{"sku": truth, "count": 1}]})
    assert result["correct"] is False
    assert result["fusion"]["applied"] and result["fusion"]["visitors"] == {"p2": [truth]}
    assert result["reliability"] == {"recorded": True, "saved": True, "outcomes": 1, "lowered_bins": []}
    _, pick = weigh(shelf, "p2", -184.0, 30.0)
    assert [line.sku for line in pick.lines] == [truth] and not pick.misplaced
    again = AnswerFeedback(shelf.state, shelf.items.stage)
    (outcome,) = again.record.outcomes()
    assert (outcome.event_id, outcome.agreed, outcome.flagged, outcome.confidence) == (
        event_id, False, True, put.confidence)
    status = shelf.feedback.status().to_json()
    assert status["outcomes"] == 1 and status["counters"]["fusion_applied"] == 1
    assert sum(row["answers"] for row in status["bins"]) == 1


def test_an_answer_to_an_event_fusion_did_not_keep_says_so(shelf: Shelf) -> None:
    event_id, pick = weigh(shelf, "p2", -1040.0, 0.0)  # a sure juice pick: accepted, so not kept by fusion
    assert not pick.review_required
    result = shelf.feed.review_answer({"event_id": event_id, "lines": [{"sku": "JUICE-A", "count": 1}]})
    assert result["correct"] is True and not result["fusion"]["applied"]
    assert "unknown event id" in result["fusion"]["message"]
    assert result["reliability"]["outcomes"] == 1  # an audit of an accepted event still counts


def test_the_published_confidence_is_lowered_only_where_the_bound_says(shelf: Shelf) -> None:
    sure = weigh(shelf, "p2", -1040.0, 0.0)[1]
    assert not sure.review_required and sure.confidence >= 0.96
    for i in range(40):  # fusion said this confidence and was wrong 1 time in 4
        shelf.feedback.record.add(Outcome(f"e{i}", sure.confidence, i % 4 != 0, False, False, 0.0))
    lowered = weigh(shelf, "p2", -1040.0, 20.0)[1]
    assert lowered.confidence < sure.confidence and lowered.confidence < 0.96
    assert lowered.review_required and lowered.review_reasons == ("low_confidence",)
    assert shelf.feedback.counters["lowered"] == 1 and shelf.feedback.counters["sent_to_review"] == 1
    for i in range(40):  # the reviewers corrected themselves (one answer per event): fusion was right
        shelf.feedback.record.add(Outcome(f"e{i}", sure.confidence, True, False, False, 0.0))
    again = weigh(shelf, "p2", -1040.0, 40.0)[1]
    assert again.confidence == sure.confidence and not again.review_required


def test_the_record_is_bounded_on_disk(tmp_path: Path) -> None:
    feedback = AnswerFeedback(tmp_path, ItemStep(node_config(tmp_path), None, planogram()).stage,
                              ReliabilitySettings(max_outcomes=5))
    for i in range(8):
        record = ItemRecord(f"ev{i}", i, T0, T0 + 1, "pick", (("JUICE-A", 1, "p2"),), ("p2",), 0.7, True, ("twin",))
        feedback.on_answer(record, ReviewAnswer(f"ev{i}", None, (("JUICE-A", 1, None),)), True)
    stored = json.loads((tmp_path / STATE_FILE).read_text())
    assert [o["event_id"] for o in stored["outcomes"]] == [f"ev{i}" for i in range(3, 8)]
    assert all(o["hard"] for o in stored["outcomes"])


@pytest.mark.parametrize("garbage", [b"\xff\xfe not text", b"{\"format\": 1, \"outcomes\": [", b"[1, 2]",
                                     b"{\"format\": 1, \"outcomes\": [{\"event_id\": \"e\"}]}"])
def test_a_garbage_file_is_moved_aside_with_an_error_and_a_fresh_record_starts(
        tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / STATE_FILE).write_bytes(garbage)
    with caplog.at_level(logging.ERROR, logger="edge.node.answers"):
        record = load_record(tmp_path / STATE_FILE)
    assert len(record) == 0
    (aside,) = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_bytes() == garbage  # kept as it was: nothing lost silently
    assert "are corrupt" in caplog.text and aside.name in caplog.text
    assert not (tmp_path / STATE_FILE).exists()
