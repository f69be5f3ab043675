"""The gallery on a real full disk (a 2 MB tmpfs): a crop the file cannot take is refused with a StateError
that says to free space, nothing half-stored; once space frees, crops are stored again."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.errors import StateError
from edge.gallery import Gallery
from tests.gallery.crops_data import crop
from tests.plugins.disk import fill


def test_full_disk_refuses_cleanly_then_recovers(small_disk: Path) -> None:
    gallery = Gallery(small_disk / "gallery.sqlite3")
    assert gallery.add("A", crop(1), "auto", 0.9995) is not None
    ballast = fill(small_disk)
    with pytest.raises(StateError, match="free space"):
        for i in range(200):  # the WAL has some room left: fill it until the disk says no
            gallery.add("A", crop(100 + i, side=160), "auto", 0.9995)
    stored = gallery.examples()
    assert gallery.db.integrity() == "ok"
    with gallery.db.read() as db:
        assert all(n == size for n, size in db.execute("SELECT nbytes, length(jpeg) FROM examples"))
    ballast.unlink()
    assert gallery.add("A", crop(999), "auto", 0.9995) is not None
    assert len(gallery.examples()) == len(stored) + 1
