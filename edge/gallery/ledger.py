"""The item events the gallery remembers, the crops of flagged ones waiting for a reviewer, and the
reviewers' answers (docs/gallery.md, "Review answers").

    ledger = Ledger(gallery)
    ledger.remember(record, crops, label=None)        # a flagged event: its crops wait, unlabelled
    ledger.remember(record, crops, label="APPLE-GS")  # an accepted one: its crops are examples (source auto)
    result = ledger.answer(parse_answer(params), known_skus)

An answer is checked against what the node published (unknown event id, a SKU not in the catalogue, a
plate the event did not touch: CommandError), recorded as an outcome (was the node right? with its
confidence, for calibration), and labels that event's crops with the true SKU per plate (source
`review`): crops that waited become examples, and examples the event gave earlier are relabelled or
dropped when the reviewer says otherwise. Answering again replaces the earlier answer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from edge.errors import CommandError
from edge.gallery.records import Crop, ItemRecord, Line, ReviewAnswer
from edge.gallery.store import Gallery, enforce_bounds, insert_example


class Ledger:
    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self.settings = gallery.settings

    def remember(self, record: ItemRecord, crops: Sequence[Crop], label: str | None = None,
                 source: str = "auto", now: float | None = None) -> int:
        """One item event and its crops, in one transaction: as examples of `label` (an accepted event or a
        restock) or, without a label, pending for a reviewer (only flagged events keep crops pending).
        How many crops were stored."""
        stored = 0
        now = record.t_end if now is None else now
        with self.gallery.db.write("remember an item event") as db:
            where = "gallery" if label is not None and crops else "pending" if crops else "none"
            db.execute("INSERT OR REPLACE INTO items (event_id, seq, t_start, t_end, action, lines, plates, "
                       "confidence, review_required, reasons, crops) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (record.event_id, record.seq, record.t_start, record.t_end, record.action,
                        json.dumps([list(line) for line in record.lines]), json.dumps(list(record.plates)),
                        record.confidence, int(record.review_required), json.dumps(list(record.reasons)), where))
            for crop in crops:
                if label is not None:
                    confidence = record.confidence if source == "auto" else None
                    stored += insert_example(db, self.settings, label, crop, source,  # type: ignore[arg-type]
                                             confidence, record.event_id, now) is not None
                elif self.settings.max_pending > 0:
                    _insert_pending(db, record.event_id, crop)
                    stored += 1
            _bound_ledger(db, self.settings.max_items, self.settings.max_pending)
        return stored

    def item(self, event_id: str) -> ItemRecord | None:
        with self.gallery.db.read() as db:
            row = db.execute("SELECT event_id, seq, t_start, t_end, action, lines, plates, confidence, "
                             "review_required, reasons FROM items WHERE event_id = ?", (event_id,)).fetchone()
        if row is None:
            return None
        event, seq, t_start, t_end, action, lines, plates, confidence, flagged, reasons = row
        return ItemRecord(event, seq, t_start, t_end, action, tuple(_line(x) for x in json.loads(lines)),
                          tuple(json.loads(plates)), confidence, bool(flagged), tuple(json.loads(reasons)))

    def answer(self, answer: ReviewAnswer, known_skus: Collection[str] | None, now: float) -> dict[str, Any]:
        """Check, record and apply one reviewer answer; the command's result. CommandError when wrong."""
        item = self.item(answer.event_id)
        if item is None:
            raise CommandError(f"unknown event id {answer.event_id!r}: not an item event of this node, or older "
                               f"than the last {self.settings.max_items} it remembers ([gallery] max_items)")
        if known_skus is None:
            raise CommandError("this node has no planogram yet, so it cannot check the SKUs; send the planogram "
                               "first")
        for index, (sku, _, plate) in enumerate(answer.lines):
            if sku not in known_skus:
                raise CommandError(f"params.lines[{index}].sku {sku!r} is not in the planogram's catalogue; "
                                   f"fix the spelling or add it to the catalogue")
            if plate is not None and plate not in item.plates:
                raise CommandError(f"params.lines[{index}].plate {plate!r} is not a plate of this event "
                                   f"({', '.join(item.plates)})")
        action = answer.action or item.action
        if answer.lines and action == "unknown":
            raise CommandError("params.action is needed: the node said 'unknown' for this event; say pick, put "
                               "or restock")
        true_action = action if answer.lines else "none"
        correct = _same(item.action, item.lines, true_action, answer.lines)
        labels = _plate_labels(answer.lines, item.plates)
        with self.gallery.db.write("record a review answer") as db:
            replaced = db.execute("DELETE FROM outcomes WHERE event_id = ?", (item.event_id,)).rowcount > 0
            db.execute("INSERT INTO outcomes (event_id, answered, confidence, review_required, reasons, "
                       "node_action, node_lines, true_action, true_lines, correct, reviewer) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (item.event_id, now, item.confidence, int(item.review_required),
                        json.dumps(list(item.reasons)), item.action, json.dumps([list(x) for x in item.lines]),
                        true_action, json.dumps([list(x) for x in answer.lines]), int(correct), answer.reviewer))
            labelled, dropped = _label_crops(db, self.gallery, item.event_id, labels, now)
        return {"event_id": item.event_id, "correct": correct, "replaced": replaced, "labelled_crops": labelled,
                "dropped_crops": dropped,
                "node": {"action": item.action, "lines": [_line_json(x) for x in item.lines],
                         "confidence": item.confidence, "review_required": item.review_required},
                "truth": {"action": true_action, "lines": [_line_json(x) for x in answer.lines]}}


def _insert_pending(db: sqlite3.Connection, event_id: str, crop: Crop) -> None:
    x1, y1, x2, y2 = crop.box
    db.execute("INSERT INTO pending (event_id, plate, t, region, label, x1, y1, x2, y2, nbytes, jpeg) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (event_id, crop.plate, crop.t, crop.region, crop.label, x1, y1, x2, y2, len(crop.jpeg), crop.jpeg))


def _bound_ledger(db: sqlite3.Connection, max_items: int, max_pending: int) -> None:
    excess = db.execute("SELECT COUNT(*) FROM items").fetchone()[0] - max_items
    if excess > 0:
        db.execute("DELETE FROM pending WHERE event_id IN (SELECT event_id FROM items ORDER BY n LIMIT ?)", (excess,))
        db.execute("DELETE FROM items WHERE n IN (SELECT n FROM items ORDER BY n LIMIT ?)", (excess,))
    excess = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] - max_pending
    if excess > 0:
        db.execute("DELETE FROM pending WHERE id IN (SELECT id FROM pending ORDER BY id LIMIT ?)", (excess,))


def _plate_labels(lines: Sequence[Line], plates: Sequence[str]) -> dict[str, str]:
    """Plate -> the one true SKU of its crops. A line naming its plate labels that plate; lines without a
    plate label every plate when they name one SKU only. A plate with two SKUs gets no label (its crop
    cannot say which it shows)."""
    per_plate: dict[str, set[str]] = {}
    unplaced = {sku for sku, _, plate in lines if plate is None}
    for sku, _, plate in lines:
        if plate is not None:
            per_plate.setdefault(plate, set()).add(sku)
    labels = {}
    for plate in plates:
        skus = per_plate.get(plate, set()) | unplaced
        if len(skus) == 1:
            labels[plate] = next(iter(skus))
    return labels


def _label_crops(db: sqlite3.Connection, gallery: Gallery, event_id: str, labels: dict[str, str],
                 now: float) -> tuple[int, int]:
    """The event's crops take the true labels: pending ones become examples, earlier examples are relabelled
    (or dropped where the reviewer's lines leave their plate without one SKU). (labelled, dropped)."""
    labelled = dropped = 0
    for example_id, plate in db.execute("SELECT id, plate FROM examples WHERE event_id = ?", (event_id,)).fetchall():
        truth = labels.get(plate)
        if truth is None:
            db.execute("DELETE FROM examples WHERE id = ?", (example_id,))
            dropped += 1
            continue
        db.execute("UPDATE examples SET sku = ?, source = 'review', confidence = NULL WHERE id = ?",
                   (truth, example_id))
        enforce_bounds(db, gallery.settings, truth)
        labelled += 1
    rows = db.execute("SELECT id, plate, t, region, label, x1, y1, x2, y2, jpeg FROM pending WHERE event_id = ? "
                      "ORDER BY id", (event_id,)).fetchall()
    for pending_id, plate, t, region, label, x1, y1, x2, y2, jpeg in rows:
        db.execute("DELETE FROM pending WHERE id = ?", (pending_id,))
        truth = labels.get(plate)
        if truth is None:
            dropped += 1
            continue
        crop = Crop(plate, t, region, label, (x1, y1, x2, y2), bytes(jpeg))
        labelled += insert_example(db, gallery.settings, truth, crop, "review", None, event_id, now) is not None
    db.execute("UPDATE items SET crops = 'gallery' WHERE event_id = ? AND ?", (event_id, labelled > 0))
    return labelled, dropped


def _same(action: str, lines: Sequence[Line], true_action: str, true_lines: Sequence[Line]) -> bool:
    """The node was right: same action and the same units of each SKU (plates aside: a reviewer may not say)."""
    def units(of: Sequence[Line]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for sku, count, _ in of:
            totals[sku] = totals.get(sku, 0) + count
        return totals

    if not true_lines:
        return not lines
    return action == true_action and units(lines) == units(true_lines)


def _line(raw: list[Any]) -> Line:
    return (str(raw[0]), int(raw[1]), None if raw[2] is None else str(raw[2]))


def _line_json(line: Line) -> dict[str, Any]:
    sku, count, plate = line
    return {"sku": sku, "count": count} | ({} if plate is None else {"plate": plate})
