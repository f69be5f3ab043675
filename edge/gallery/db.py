"""The gallery's SQLite file: schema, one connection shared by the node's threads under a lock, and
clear errors for a file that is not a gallery or is damaged.

WAL with synchronous=NORMAL: a process killed at any instant (kill -9, a crash) leaves the file as of
its last committed transaction, because a transaction is in the file or not at all (what
`tests/gallery/test_kill9.py` checks with a real SIGKILL). A power cut may lose the last few
transactions (a crop or two), never the file's consistency.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge.errors import StateError

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL, plate TEXT NOT NULL, t REAL NOT NULL, added REAL NOT NULL,
    confidence REAL, source TEXT NOT NULL, event_id TEXT, region TEXT NOT NULL, label TEXT,
    x1 INTEGER NOT NULL, y1 INTEGER NOT NULL, x2 INTEGER NOT NULL, y2 INTEGER NOT NULL,
    nbytes INTEGER NOT NULL, jpeg BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS examples_sku ON examples (sku, id);
CREATE INDEX IF NOT EXISTS examples_event ON examples (event_id);
CREATE TABLE IF NOT EXISTS descriptors (
    example_id INTEGER NOT NULL REFERENCES examples (id) ON DELETE CASCADE,
    kind TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (example_id, kind));
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL, plate TEXT NOT NULL, t REAL NOT NULL, region TEXT NOT NULL, label TEXT,
    x1 INTEGER NOT NULL, y1 INTEGER NOT NULL, x2 INTEGER NOT NULL, y2 INTEGER NOT NULL,
    nbytes INTEGER NOT NULL, jpeg BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS pending_event ON pending (event_id);
CREATE TABLE IF NOT EXISTS items (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE, seq INTEGER, t_start REAL NOT NULL, t_end REAL NOT NULL,
    action TEXT NOT NULL, lines TEXT NOT NULL, plates TEXT NOT NULL, confidence REAL NOT NULL,
    review_required INTEGER NOT NULL, reasons TEXT NOT NULL, crops TEXT NOT NULL DEFAULT 'none');
CREATE TABLE IF NOT EXISTS outcomes (
    event_id TEXT PRIMARY KEY, answered REAL NOT NULL, confidence REAL NOT NULL,
    review_required INTEGER NOT NULL, reasons TEXT NOT NULL, node_action TEXT NOT NULL, node_lines TEXT NOT NULL,
    true_action TEXT NOT NULL, true_lines TEXT NOT NULL, correct INTEGER NOT NULL, reviewer TEXT);
"""


class GalleryDb:
    """The open file. `write()` is one transaction under the lock; `read()` the lock alone."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            if readonly:
                if not path.is_file():
                    raise StateError(f"no gallery at {path}: the node has stored no crop yet, or [gallery] path / "
                                     f"[node] state_dir point elsewhere")
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                                           isolation_level=None)
            else:
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            if not readonly:
                self._db.executescript(DDL)
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                                 (str(SCHEMA_VERSION),))
            self._check()
        except sqlite3.OperationalError as exc:
            if "unable to open" not in str(exc):
                raise StateError(f"gallery {path} cannot be used ({exc}); stop the daemon and move the file away "
                                 f"(the node starts a new, empty gallery)") from None
            raise StateError(f"gallery {path}: cannot open it ({exc}); check that {path.parent} exists and the "
                             f"node's user may write there ([gallery] path, [node] state_dir)") from None
        except sqlite3.DatabaseError as exc:
            raise StateError(f"gallery {path} cannot be used ({exc}); stop the daemon and move the file away "
                             f"(the node starts a new, empty gallery)") from None

    def _check(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise StateError(f"gallery {self.path} has schema {row and row[0]!r}, this node reads "
                             f"{SCHEMA_VERSION}; move the file away to start a new gallery")

    def integrity(self) -> str:
        """SQLite's own check: 'ok' or what is damaged."""
        with self._lock:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    @contextmanager
    def write(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StateError(f"gallery {self.path}: cannot {what}: {exc}") from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StateError(f"gallery {self.path}: cannot {what}: {exc}; free space on its disk") from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._db.in_transaction:  # SQLite may have rolled back by itself (a full disk)
            self._db.execute("ROLLBACK")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()
