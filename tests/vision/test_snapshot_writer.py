"""SnapshotWriter: ids at once, pictures drawn on its thread, bounded, failures counted, drained at stop."""

from __future__ import annotations

import threading
from pathlib import Path

from edge.vision.snapshots import WRITER_QUEUE, SnapshotStore, SnapshotWriter


def test_ids_come_at_once_pictures_later_and_a_writer_too_far_behind_gives_up(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    errors: list[str] = []
    writer = SnapshotWriter(store, on_error=errors.append)
    gate = threading.Event()
    drawn_on: list[str] = []

    def render() -> bytes:
        gate.wait(10)  # a slow draw: everything after it queues
        drawn_on.append(threading.current_thread().name)
        return b"\xff\xd8 picture \xff\xd9"

    ids = [writer.submit(1_790_000_000.0 + i, render) for i in range(WRITER_QUEUE + 3)]
    taken = [i for i in ids if i is not None]
    assert WRITER_QUEUE <= len(taken) <= WRITER_QUEUE + 1  # the queue, and the one being drawn
    assert len(errors) == len(ids) - len(taken) and "already wait" in errors[0]
    gate.set()
    writer.stop()
    assert all(store.get(i) == b"\xff\xd8 picture \xff\xd9" for i in taken)
    assert set(drawn_on) == {"snapshot-writer"} and store.pending() == 0


def test_a_picture_that_cannot_be_stored_is_given_up_and_counted(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    errors: list[str] = []
    writer = SnapshotWriter(store, on_error=errors.append)
    (tmp_path / "snapshots").rmdir()
    (tmp_path / "snapshots").write_text("a file where the folder was\n")
    lost = writer.submit(1_790_000_000.0, lambda: b"\xff\xd8\xff\xd9")

    def broken() -> bytes:
        raise KeyError("a bug in a drawing")

    buggy = writer.submit(1_790_000_001.0, broken)
    writer.stop()
    assert lost is not None and buggy is not None
    assert store.get(lost) is None and store.get(buggy) is None and store.pending() == 0
    assert len(errors) == 2 and "not stored" in errors[0] and "drawing failed" in errors[1]
