"""Review answers against the ledger: unknown event ids, SKUs and plates refused with what to fix; the
labels reach the gallery (waiting crops become examples, earlier examples are relabelled or dropped); the
outcome is persisted for calibration; flagged events never give examples by themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.config.gallery import GallerySection
from edge.errors import CommandError
from edge.gallery import Gallery, Ledger
from edge.gallery.records import ReviewAnswer
from tests.gallery.crops_data import crop, record

KNOWN = {"APPLE-GS", "APPLE-PL", "JUICE-A"}
EVENT = "6f0c1d2e-0000-4000-8000-000000000001"
OTHER = "6f0c1d2e-0000-4000-8000-000000000002"


def ledger(tmp_path: Path, **settings: Any) -> Ledger:
    return Ledger(Gallery(tmp_path / "g.sqlite3", GallerySection(**settings)))


def test_flagged_event_crops_wait_unlabelled(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    assert book.remember(record(EVENT, flagged=True), [crop(1)]) == 1
    assert book.gallery.examples() == []  # never an example by itself
    assert book.gallery.status().pending == 1
    assert book.item(EVENT) is not None


def test_answer_labels_the_waiting_crops_and_records_the_outcome(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, sku="APPLE-GS", flagged=True, confidence=0.6), [crop(1), crop(2, plate="p2")])
    result = book.answer(ReviewAnswer(EVENT, None, (("APPLE-PL", 1, None),)), KNOWN, now=5000.0)
    assert result["correct"] is False and result["labelled_crops"] == 1  # p2 is not a plate of the event
    (example,) = book.gallery.examples()
    assert (example.sku, example.source, example.event_id, example.plate) == ("APPLE-PL", "review", EVENT, "p1")
    status = book.gallery.status()
    assert status.pending == 0 and status.reviews.answered == 1 and status.reviews.node_wrong == 1
    assert book.gallery.calibration_rows() == [(0.6, False, True)]


def test_answer_for_an_accepted_event_relabels_its_examples(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, sku="APPLE-GS"), [crop(1)], label="APPLE-GS")
    assert [e.source for e in book.gallery.examples()] == ["auto"]
    book.answer(ReviewAnswer(EVENT, "pick", (("APPLE-PL", 1, "p1"),)), KNOWN, now=5000.0)
    (example,) = book.gallery.examples()
    assert (example.sku, example.source, example.confidence) == ("APPLE-PL", "review", None)
    assert book.gallery.status().reviews.accepted_wrong == 1


def test_a_right_answer_keeps_the_label_and_counts_right(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, sku="APPLE-GS"), [crop(1)], label="APPLE-GS")
    result = book.answer(ReviewAnswer(EVENT, None, (("APPLE-GS", 1, None),)), KNOWN, now=5000.0)
    assert result["correct"] is True
    assert [e.sku for e in book.gallery.examples()] == ["APPLE-GS"]
    assert book.gallery.calibration_rows() == [(0.9995, True, False)]


def test_no_product_moved_drops_the_crops(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, sku="APPLE-GS"), [crop(1)], label="APPLE-GS")
    result = book.answer(ReviewAnswer(EVENT, None, ()), KNOWN, now=5000.0)
    assert result["correct"] is False and result["dropped_crops"] == 1 and result["truth"]["action"] == "none"
    assert book.gallery.examples() == []


def test_answering_again_replaces_the_earlier_answer(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, sku="APPLE-GS", flagged=True), [crop(1)])
    book.answer(ReviewAnswer(EVENT, None, (("APPLE-PL", 1, None),)), KNOWN, now=5000.0)
    again = book.answer(ReviewAnswer(EVENT, None, (("APPLE-GS", 1, None),)), KNOWN, now=5001.0)
    assert again["replaced"] is True and again["correct"] is True
    assert [e.sku for e in book.gallery.examples()] == ["APPLE-GS"]
    assert book.gallery.status().reviews.answered == 1


def test_two_skus_on_one_plate_label_nothing(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, flagged=True), [crop(1)])
    result = book.answer(ReviewAnswer(EVENT, None, (("APPLE-GS", 1, None), ("APPLE-PL", 1, None))), KNOWN, 5000.0)
    assert result["labelled_crops"] == 0 and book.gallery.examples() == []


@pytest.mark.parametrize(("answer", "known", "message"), [
    (ReviewAnswer(OTHER, None, (("APPLE-GS", 1, None),)), KNOWN, "unknown event id"),
    (ReviewAnswer(EVENT, None, (("NOPE", 1, None),)), KNOWN, "not in the planogram's catalogue"),
    (ReviewAnswer(EVENT, None, (("APPLE-GS", 1, "p9"),)), KNOWN, "is not a plate of this event"),
    (ReviewAnswer(EVENT, None, (("APPLE-GS", 1, None),)), None, "no planogram yet"),
])
def test_refused_answers_change_nothing(tmp_path: Path, answer: ReviewAnswer, known: set[str] | None,
                                        message: str) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, flagged=True), [crop(1)])
    with pytest.raises(CommandError, match=message):
        book.answer(answer, known, now=5000.0)
    status = book.gallery.status()
    assert status.reviews.answered == 0 and status.pending == 1 and status.examples == 0


def test_unknown_action_needs_one(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.remember(record(EVENT, flagged=True, action="unknown"), [])
    with pytest.raises(CommandError, match=r"params\.action is needed"):
        book.answer(ReviewAnswer(EVENT, None, (("APPLE-GS", 1, None),)), KNOWN, now=5000.0)
    assert book.answer(ReviewAnswer(EVENT, "put", (("APPLE-GS", 1, None),)), KNOWN, 5000.0)["correct"] is False


def test_ledger_and_pending_are_bounded(tmp_path: Path) -> None:
    book = ledger(tmp_path, max_items=10, max_pending=4)
    for i in range(15):
        book.remember(record(f"6f0c1d2e-0000-4000-8000-{i:012d}", flagged=True), [crop(i)])
    status = book.gallery.status()
    assert status.items == 10 and status.pending == 4
    assert book.item("6f0c1d2e-0000-4000-8000-000000000000") is None  # the oldest is forgotten
    assert book.item("6f0c1d2e-0000-4000-8000-000000000014") is not None
