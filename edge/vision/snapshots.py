"""JPEG snapshots on disk under state_dir/snapshots, bounded by count and bytes, oldest removed first."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

# Ids sort by time: <unix ms, 13 digits>-<counter>; nothing else is accepted (no path tricks).
SNAPSHOT_ID = re.compile(r"^\d{13}-\d{6}$")


class SnapshotStore:
    def __init__(self, directory: Path, max_count: int = 500, max_bytes: int = 200_000_000) -> None:
        self.directory = directory
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._counter = 0
        directory.mkdir(parents=True, exist_ok=True)

    def save(self, jpeg: bytes, t: float | None = None) -> str:
        """Store atomically (temp file + rename) and return its id; prunes the oldest past the bounds."""
        with self._lock:
            self._counter = (self._counter + 1) % 1_000_000
            snapshot_id = f"{int((time.time() if t is None else t) * 1000):013d}-{self._counter:06d}"
            final = self.directory / f"{snapshot_id}.jpg"
            temporary = final.with_suffix(".tmp")
            with open(temporary, "wb") as handle:
                handle.write(jpeg)
            os.replace(temporary, final)
            self._prune()
            return snapshot_id

    def get(self, snapshot_id: str) -> bytes | None:
        """The JPEG bytes, or None when it was pruned or never existed."""
        if not SNAPSHOT_ID.match(snapshot_id):
            raise ValueError(f"snapshot id {snapshot_id!r} is malformed; expected <unix ms>-<6 digits>")
        try:
            return (self.directory / f"{snapshot_id}.jpg").read_bytes()
        except FileNotFoundError:
            return None

    def ids(self) -> list[str]:
        """Stored ids, oldest first."""
        return sorted(p.stem for p in self.directory.glob("*.jpg") if SNAPSHOT_ID.match(p.stem))

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob("*.jpg"))

    def _prune(self) -> None:
        files = sorted(
            ((p, p.stat().st_size) for p in self.directory.glob("*.jpg") if SNAPSHOT_ID.match(p.stem)),
            key=lambda item: item[0].stem,
        )
        total = sum(size for _, size in files)
        while files and (len(files) > self.max_count or total > self.max_bytes):
            path, size = files.pop(0)
            path.unlink(missing_ok=True)
            total -= size
