"""`gallery export`: images per SKU and one CSV whose rows name them; a directory in use is refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from edge.errors import StateError
from edge.gallery import Gallery, Ledger
from edge.gallery.export import COLUMNS, OUTCOME_COLUMNS, export_dataset
from edge.gallery.records import ReviewAnswer
from tests.gallery.crops_data import crop, record


def test_export_writes_every_image_and_its_label(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3")
    gallery.add("APPLE-GS", crop(1), "auto", 0.9995, "e-1")
    gallery.add("APPLE-PL", crop(2, plate="p2"), "review")
    gallery.add("APPLE-GS", crop(3), "restock")
    result = export_dataset(gallery, tmp_path / "out")
    assert (result.images, result.skus) == (3, 2)
    with (tmp_path / "out" / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["sku"], r["source"], r["plate"]) for r in rows] == [
        ("APPLE-GS", "auto", "p1"), ("APPLE-PL", "review", "p2"), ("APPLE-GS", "restock", "p1")]
    for row in rows:
        image = (tmp_path / "out" / row["file"]).read_bytes()
        assert row["file"].startswith(f"images/{row['sku']}/") and len(image) == int(row["bytes"])
        assert image == gallery.image(int(Path(row["file"]).stem))
    assert rows[0]["confidence"] == "0.999500" and rows[1]["confidence"] == ""
    assert rows[0]["t_iso"].endswith("Z") and rows[0]["event_id"] == "e-1"
    assert result.bytes == sum(int(r["bytes"]) for r in rows)


def test_export_refuses_a_directory_in_use(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3")
    used = tmp_path / "used"
    used.mkdir()
    (used / "mine.txt").write_text("keep me")
    with pytest.raises(StateError, match="not an empty directory"):
        export_dataset(gallery, used)
    assert (used / "mine.txt").read_text() == "keep me"
    empty = export_dataset(gallery, tmp_path / "empty")
    assert empty.images == 0 and (tmp_path / "empty" / "labels.csv").read_text().startswith("file,sku")


def test_export_writes_the_review_outcomes(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3")
    ledger = Ledger(gallery)
    event = "6f0c1d2e-0000-4000-8000-000000000001"
    ledger.remember(record(event, flagged=True, confidence=0.62), [crop(1)])
    ledger.answer(ReviewAnswer(event, None, (("APPLE-PL", 1, None),), "anna"), {"APPLE-PL", "APPLE-GS"}, 5000.0)
    result = export_dataset(gallery, tmp_path / "out")
    assert result.outcomes == 1 and result.images == 1
    with (tmp_path / "out" / "outcomes.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert tuple(row) == OUTCOME_COLUMNS
    assert (row["event_id"], row["confidence"], row["review_required"], row["correct"], row["reviewer"]) == (
        event, "0.620000", "1", "0", "anna")
    assert row["true_lines"] == '[["APPLE-PL", 1, null]]' and row["node_action"] == "pick"
