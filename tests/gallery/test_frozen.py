"""A gallery as replay reads it (edge/gallery/frozen.py): a copied file, a copied state directory and a
`gallery export` directory give the same examples and pictures; nothing is ever written to the source; bad
sources are refused with a message saying what was expected."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from edge.errors import StateError
from edge.gallery import Gallery
from edge.gallery.export import export_dataset
from edge.gallery.frozen import FrozenGallery
from tests.gallery.crops_data import crop


def filled(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "gallery.sqlite3"
    path.parent.mkdir()
    gallery = Gallery(path)
    gallery.add("APPLE-GS", crop(1), "auto", 0.9995, "e-1")
    gallery.add("APPLE-PL", crop(2, plate="p2"), "review")
    gallery.add("APPLE-GS", crop(3), "restock")
    gallery.put_descriptor(1, "crop-v1:x", np.array([0.6, 0.8], np.float32))
    export_dataset(gallery, tmp_path / "export")
    gallery.close()
    return path


def test_file_state_dir_and_export_read_the_same(tmp_path: Path) -> None:
    path = filled(tmp_path)
    sources = [FrozenGallery.open(path), FrozenGallery.open(path.parent), FrozenGallery.open(tmp_path / "export")]
    first = sources[0]
    assert [(e.sku, e.plate, e.source) for e in first.examples()] == [
        ("APPLE-GS", "p1", "auto"), ("APPLE-PL", "p2", "review"), ("APPLE-GS", "p1", "restock")]
    assert first.counts() == {"APPLE-GS": 2, "APPLE-PL": 1}
    for source in sources[1:]:
        assert source.examples() == first.examples()
        assert all(source.image(e.id) == first.image(e.id) for e in first.examples())
    assert [e.id for e in first.examples(["APPLE-GS"], plate="p1")] == [1, 3]
    assert first.image(99) is None
    for source in sources:
        source.close()


def test_descriptors_are_kept_in_memory_and_the_source_is_never_written(tmp_path: Path) -> None:
    path = filled(tmp_path)
    before = path.read_bytes()
    frozen = FrozenGallery.open(path)
    stored = frozen.descriptors("crop-v1:x")
    assert [(sku, [i for i, _ in rows]) for sku, rows in stored.items()] == [("APPLE-GS", [1])]
    frozen.put_descriptor(2, "crop-v1:x", np.array([1.0, 0.0], np.float32))
    frozen.put_descriptor(3, "other", np.array([0.0, 1.0], np.float32))
    now = frozen.descriptors("crop-v1:x")
    assert {sku: [i for i, _ in rows] for sku, rows in now.items()} == {"APPLE-GS": [1], "APPLE-PL": [2]}
    assert list(frozen.descriptors("crop-v1:x", ["APPLE-PL"])) == ["APPLE-PL"]
    frozen.close()
    assert path.read_bytes() == before  # (SQLite may leave its -shm beside a WAL file read, never a change)
    again = Gallery(path)
    assert {sku: [i for i, _ in rows] for sku, rows in again.descriptors("crop-v1:x").items()} == {"APPLE-GS": [1]}
    again.close()


def test_bad_sources_are_refused_with_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="not found"):
        FrozenGallery.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StateError, match=r"labels\.csv"):
        FrozenGallery.open(tmp_path / "empty")
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError):
        FrozenGallery.open(tmp_path / "junk.sqlite3")
    filled(tmp_path)
    labels = tmp_path / "export" / "labels.csv"
    rows = list(csv.DictReader(labels.open()))
    rows[1]["x1"] = "left"
    with labels.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(StateError, match=r"labels.csv:3: .*export the gallery again"):
        FrozenGallery.open(tmp_path / "export")
    labels.write_text("file,sku\nimages/a/1.jpg,a\n")
    with pytest.raises(StateError, match="no plate"):
        FrozenGallery.open(tmp_path / "export")
