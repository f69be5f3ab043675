"""The gallery store: bounded per SKU by count and bytes and in total (oldest out first), descriptors
dropped with their example, status and calibration rows from the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.config.gallery import GallerySection
from edge.errors import StateError
from edge.gallery import Gallery
from tests.gallery.crops_data import crop


def test_count_bound_per_sku_drops_the_oldest(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3", GallerySection(max_per_sku=5))
    ids = [gallery.add("A", crop(i), "auto", 0.9995, f"e{i}") for i in range(12)]
    assert None not in ids
    gallery.add("B", crop(100), "auto", 0.9995)
    kept = gallery.examples(["A"])
    assert [e.id for e in kept] == ids[-5:]  # the five newest, oldest first
    assert [e.t for e in kept] == sorted(e.t for e in kept)
    assert len(gallery.examples(["B"])) == 1  # another SKU's bound is its own
    assert gallery.image(ids[0] or 0) is None and gallery.image(ids[-1] or 0) is not None


def test_byte_bound_per_sku(tmp_path: Path) -> None:
    one = len(crop(0).jpeg)
    gallery = Gallery(tmp_path / "g.sqlite3", GallerySection(max_bytes_per_sku=max(10_000, int(one * 3.5))))
    for i in range(10):
        gallery.add("A", crop(i), "auto", 0.9995)
    summary = {s.sku: s for s in gallery.summaries()}["A"]
    assert summary.bytes <= gallery.settings.max_bytes_per_sku
    assert summary.count < 10
    newest = max(e.id for e in gallery.examples(["A"]))
    assert newest == 10  # the last one added is always kept


def test_a_crop_over_the_sku_budget_is_refused_whole(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3", GallerySection(max_bytes_per_sku=10_000))
    big = crop(1, side=400)
    assert len(big.jpeg) > 10_000
    assert gallery.add("A", big, "auto", 0.9995) is None
    assert gallery.examples() == []


def test_total_bound_takes_from_the_largest_sku(tmp_path: Path) -> None:
    one = len(crop(0).jpeg)
    settings = GallerySection(max_total_bytes=max(10_000, one * 6), max_bytes_per_sku=max(10_000, one * 6))
    gallery = Gallery(tmp_path / "g.sqlite3", settings)
    gallery.add("RARE", crop(500), "review")
    for i in range(20):
        gallery.add("COMMON", crop(i), "auto", 0.9995)
    sums = {s.sku: s for s in gallery.summaries()}
    assert sum(s.bytes for s in sums.values()) <= settings.max_total_bytes
    assert sums["RARE"].count == 1  # the rare SKU keeps its one example
    assert sums["COMMON"].count < 20


def test_descriptors_cached_and_dropped_with_their_example(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path / "g.sqlite3", GallerySection(max_per_sku=2))
    first = gallery.add("A", crop(1), "auto", 0.9995)
    assert first is not None
    gallery.put_descriptor(first, "colour", np.arange(4, dtype=np.float32))
    got = gallery.descriptors("colour")
    assert list(got) == ["A"] and got["A"][0][0] == first
    assert np.array_equal(got["A"][0][1], np.arange(4, dtype=np.float32))
    gallery.add("A", crop(2), "auto", 0.9995)
    gallery.add("A", crop(3), "auto", 0.9995)  # pushes `first` out
    assert gallery.descriptors("colour") == {}
    with gallery.db.read() as db:
        assert db.execute("SELECT COUNT(*) FROM descriptors").fetchone()[0] == 0


def test_status_per_sku_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    gallery = Gallery(path)
    gallery.add("A", crop(1, t=100.0), "auto", 0.9995)
    gallery.add("A", crop(2, t=200.0), "restock")
    gallery.close()
    again = Gallery(path, readonly=True)
    status = again.status()
    assert status.examples == 2
    (summary,) = status.skus
    assert summary.sku == "A" and summary.sources == {"auto": 1, "restock": 1}
    assert summary.oldest_t == 101.0 and summary.newest_t == 202.0
    assert status.to_json(per_sku=True)["skus"][0]["count"] == 2


def test_readonly_open_of_a_missing_file_says_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no gallery at"):
        Gallery(tmp_path / "none.sqlite3", readonly=True)


def test_a_file_that_is_no_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError, match="cannot be used"):
        Gallery(path)


def test_the_node_moves_a_damaged_gallery_aside_and_starts_anew(tmp_path: Path) -> None:
    from edge.config import parse_config

    state = tmp_path / "state"
    state.mkdir()
    config = parse_config(f'[node]\nstore_id = "s"\nnode_id = "n"\nstate_dir = "{state}"\n[serial]\nport = "loop://"\n'
                          f'channels = 1\n[[plates]]\nname = "p1"\nchannels = [0]\n')
    damaged = state / "gallery.sqlite3"
    damaged.write_bytes(b"\x00garbage" * 500)
    gallery = Gallery.for_node(config)
    assert gallery.db.integrity() == "ok" and gallery.examples() == []
    (aside,) = state.glob("gallery.sqlite3.corrupt-*")
    assert aside.read_bytes() == b"\x00garbage" * 500  # kept for a look
    assert gallery.add("A", crop(1), "auto", 0.9995) is not None
