"""The gallery survives kill -9 mid-write: a real subprocess stores crops as fast as it can and is killed
with SIGKILL while it writes; the file opens, passes SQLite's integrity check, holds every crop the child
had reported stored (and at most the one in flight), each whole, within the bounds, and takes new crops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.config.gallery import GallerySection
from edge.gallery import Gallery
from tests.gallery.crops_data import crop

MAX_PER_SKU = 40
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from edge.config.gallery import GallerySection
    from edge.gallery import Gallery
    from tests.gallery.crops_data import crop

    gallery = Gallery(Path(sys.argv[1]), GallerySection(max_per_sku={max_per_sku}))
    pictures = [crop(i, side=160) for i in range(8)]   # ~20 KB each: a write takes a while
    n = 0
    while True:
        gallery.add("SKU-%d" % (n % 3), pictures[n % len(pictures)], "auto", 0.9995, "e%d" % n)
        n += 1
        print(n, flush=True)
""").format(max_per_sku=MAX_PER_SKU)


@pytest.mark.parametrize("kill_after", [5, 37, 150])
def test_killed_mid_write_loses_nothing_stored(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "gallery.sqlite3"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=root, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert child.stdout is not None
    reported = 0
    try:
        for line in child.stdout:
            reported = int(line)
            if reported >= kill_after:
                child.send_signal(signal.SIGKILL)  # it is already writing the next crop
                break
        for line in child.stdout.read().split():  # printed before the kill: stored too
            reported = int(line)
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert reported >= kill_after, "the child stopped before it was killed"
    assert path.with_name(path.name + "-wal").exists()  # killed with its write-ahead log not checkpointed

    gallery = Gallery(path, GallerySection(max_per_sku=MAX_PER_SKU))
    assert gallery.db.integrity() == "ok"
    with gallery.db.read() as db:
        rows = db.execute("SELECT sku, event_id, nbytes, length(jpeg), jpeg FROM examples").fetchall()
    stored_events = {int(event_id[1:]) for _, event_id, *_ in rows}
    expected_kept = {n for n in range(reported) if n >= reported - 3 * MAX_PER_SKU}  # what the bounds keep
    assert expected_kept <= stored_events, "a crop reported stored is missing"
    assert stored_events <= expected_kept | {reported}  # at most the one in flight besides
    for sku, _, nbytes, length, jpeg in rows:
        assert nbytes == length and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9", sku  # whole crops
    assert all(s.count <= MAX_PER_SKU for s in gallery.summaries())
    assert gallery.add("SKU-0", crop(99), "auto", 0.9995) is not None  # and it goes on working
