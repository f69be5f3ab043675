"""JPEG snapshots on disk under state_dir/snapshots, bounded by count and bytes, oldest removed first.

`save()` stores a JPEG now. `reserve()` hands out an id at once for a picture a worker renders later
(review evidence: the id goes into the item event on the processing thread, the drawing and encoding
happen off it); `fill()` stores it, `abandon()` gives the id up, and `get(id, wait_s)` waits that long for
a reserved id still being rendered.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from edge.atomic_file import TEMP_SUFFIX, replace_atomically

log = logging.getLogger(__name__)
WRITER_QUEUE = 16  # pictures waiting to be drawn and stored; beyond it one is given up (counted)

# Ids sort by time: <unix ms, 13 digits>-<counter>; nothing else is accepted (no path tricks).
SNAPSHOT_ID = re.compile(r"^\d{13}-\d{6}$")


class SnapshotStore:
    """The directory is scanned once at start; after that an in-memory index (id, size) decides what
    to prune, so a save costs one file write, not a listing of up to `max_count` files (slow on SD)."""

    def __init__(self, directory: Path, max_count: int = 500, max_bytes: int = 200_000_000) -> None:
        self.directory = directory
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._counter = 0
        self._reserved: dict[str, threading.Event] = {}  # ids handed out, not filled yet
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob(f"*{TEMP_SUFFIX}"):  # a save cut short by a power loss
            leftover.unlink(missing_ok=True)
        self._index: deque[tuple[str, int]] = deque(self._scan())
        self._bytes = sum(size for _, size in self._index)
        with self._lock:
            self._prune()

    def save(self, jpeg: bytes, t: float | None = None) -> str:
        """Store atomically (temp file + rename) and return its id; prunes the oldest past the bounds."""
        with self._lock:
            snapshot_id = self._new_id(t)
            self._write(snapshot_id, jpeg)
            return snapshot_id

    def reserve(self, t: float | None = None) -> str:
        """An id for a picture stored later with fill() (or given up with abandon())."""
        with self._lock:
            snapshot_id = self._new_id(t)
            self._reserved[snapshot_id] = threading.Event()
            return snapshot_id

    def fill(self, snapshot_id: str, jpeg: bytes) -> None:
        """Store the picture of a reserved id; OSError (disk full...) leaves it abandoned."""
        with self._lock:
            done = self._reserved.pop(snapshot_id, None)
            try:
                self._write(snapshot_id, jpeg)
            finally:
                if done is not None:
                    done.set()

    def abandon(self, snapshot_id: str) -> None:
        """A reserved id that will never be stored (the renderer was too far behind, or failed)."""
        with self._lock:
            done = self._reserved.pop(snapshot_id, None)
        if done is not None:
            done.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._reserved)

    def _new_id(self, t: float | None) -> str:
        self._counter = (self._counter + 1) % 1_000_000
        return f"{int((time.time() if t is None else t) * 1000):013d}-{self._counter:06d}"

    def _write(self, snapshot_id: str, jpeg: bytes) -> None:
        """Under the lock: the file, the index, the bounds."""
        replace_atomically(self.directory / f"{snapshot_id}.jpg", jpeg, durable=False)
        self._index.append((snapshot_id, len(jpeg)))
        self._bytes += len(jpeg)
        if len(self._index) > 1 and self._index[-2][0] > snapshot_id:  # a frame older than the last saved
            self._index = deque(sorted(self._index))
        self._prune()

    def get(self, snapshot_id: str, wait_s: float = 0.0) -> bytes | None:
        """The JPEG bytes, or None when it was pruned, abandoned or never existed; a reserved id still
        being rendered is waited for up to `wait_s`."""
        if not SNAPSHOT_ID.match(snapshot_id):
            raise ValueError(f"snapshot id {snapshot_id!r} is malformed; expected <unix ms>-<6 digits>")
        with self._lock:
            done = self._reserved.get(snapshot_id)
        if done is not None:
            done.wait(wait_s)
        try:
            return (self.directory / f"{snapshot_id}.jpg").read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # pruned, never stored, or the folder is gone
            return None

    def ids(self) -> list[str]:
        """Stored ids, oldest first (read from the directory)."""
        return [snapshot_id for snapshot_id, _ in self._scan()]

    def total_bytes(self) -> int:
        return sum(size for _, size in self._scan())

    def _scan(self) -> list[tuple[str, int]]:
        found = []
        for path in self.directory.glob("*.jpg"):
            if SNAPSHOT_ID.match(path.stem):
                try:
                    found.append((path.stem, path.stat().st_size))
                except FileNotFoundError:  # removed meanwhile
                    continue
        return sorted(found)

    def _prune(self) -> None:
        while self._index and (len(self._index) > self.max_count or self._bytes > self.max_bytes):
            snapshot_id, size = self._index.popleft()
            (self.directory / f"{snapshot_id}.jpg").unlink(missing_ok=True)
            self._bytes -= size


class SnapshotWriter:
    """Draws and stores pictures off the caller's thread: `submit(t, render)` reserves the id at once and
    hands `render() -> JPEG bytes` to one worker thread, which fills it. A render or a write that fails
    (a corrupt frame, a full disk), or a queue already full, gives the id up: `get` answers None for it,
    and `on_error(why)` is called (counted by the caller)."""

    def __init__(self, store: SnapshotStore, on_error: Callable[[str], None] | None = None,
                 queue_size: int = WRITER_QUEUE) -> None:
        self.store = store
        self.on_error = on_error
        self._queue: queue.Queue[tuple[str, Callable[[], bytes]] | None] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, t: float, render: Callable[[], bytes]) -> str | None:
        """The id the picture will have, or None when the worker is too far behind (nothing reserved)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="snapshot-writer", daemon=True)
                self._thread.start()
        snapshot_id = self.store.reserve(t)
        try:
            self._queue.put_nowait((snapshot_id, render))
        except queue.Full:
            self.store.abandon(snapshot_id)
            self._failed(f"snapshot {snapshot_id} not taken: {self._queue.maxsize} pictures already wait")
            return None
        return snapshot_id

    def stop(self, timeout: float = 5.0) -> None:
        """Store what is queued (within `timeout`), then end the worker."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("snapshot writer still busy at stop; %d picture(s) not stored", self._queue.qsize())
        thread.join(timeout)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            snapshot_id, render = job
            try:
                self.store.fill(snapshot_id, render())
            except OSError as exc:  # a full disk, a corrupt frame (CameraError): the event keeps its evidence
                self.store.abandon(snapshot_id)
                self._failed(f"snapshot {snapshot_id} not stored in {self.store.directory}: {exc.strerror or exc}")
            except Exception:  # a bug in a render: logged with traceback, counted; the worker must live on
                log.exception("snapshot %s: drawing failed", snapshot_id)
                self.store.abandon(snapshot_id)
                self._failed(f"snapshot {snapshot_id}: drawing failed (see the traceback)")

    def _failed(self, why: str) -> None:
        log.warning("%s", why)
        if self.on_error is not None:
            self.on_error(why)
