"""JPEG snapshots on disk under state_dir/snapshots, bounded by count and bytes, oldest removed first.

`save()` stores a JPEG now. `reserve()` hands out an id at once for a picture a worker renders later
(review evidence: the id goes into the item event on the processing thread, the drawing and encoding
happen off it); `fill()` stores it, `abandon()` gives the id up, and `get(id, wait_s)` waits that long for
a reserved id still being rendered.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from pathlib import Path

from edge.atomic_file import TEMP_SUFFIX, replace_atomically

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
        except FileNotFoundError:
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
