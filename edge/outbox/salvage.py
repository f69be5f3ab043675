"""Salvage a corrupt outbox: keep the damaged file aside, copy every readable event into a new one.

    report = salvage(path)    # path.corrupt-<UTC time> keeps the old file (and its -wal/-shm)

Events are read one at a time in seq order; a damaged page makes its rows unreadable, and the
reader steps over it (seq by seq, bounded) to the rows after it. The counters are carried over
when the meta table can be read, so seq and session never go backwards; when it cannot, the next
seq follows the highest readable one and the session restarts at 0 (the report says so: the hub
then sees repeated seqs and a lower session once, see docs/mqtt.md "Corrupt outbox").
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.errors import OutboxError
from edge.outbox import counters
from edge.outbox.store import Outbox

MAX_SKIPS = 100_000  # seqs probed past damage before giving up on the rest of the table
ROW = "seq, event_id, kind, produced_at, body, state, reason"


@dataclass(frozen=True, slots=True)
class SalvageReport:
    path: str
    kept_aside: str
    events: int  # copied into the new file
    unreadable: int  # damaged rows stepped over (a lower bound: a whole lost page counts its seqs once)
    counters_recovered: bool
    next_seq: int
    session: int
    not_a_database: bool = False  # no SQLite file at all (random bytes, another file): nothing to read

    def summary(self) -> str:
        counters_note = ("counters carried over" if self.counters_recovered else
                         "counters UNREADABLE: seq continues after the highest readable event, session restarts")
        what = "not a database, nothing readable" if self.not_a_database else f"{self.unreadable} unreadable"
        return (f"outbox {self.path}: {self.events} event(s) salvaged, {what}; "
                f"{counters_note} (next seq {self.next_seq}, session {self.session}); the damaged file is "
                f"kept as {self.kept_aside}")


def salvage(path: Path) -> SalvageReport:
    """Move `path` aside and build a new outbox from what it still holds. Raises OutboxError."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    try:
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    except OSError as exc:
        raise OutboxError(f"outbox {path}: cannot move it aside to {aside}: {exc.strerror or exc}") from None
    rows, unreadable, meta, not_a_database = _read(aside)
    next_seq = max([meta.get("next_seq", 1)] + [row[0] + 1 for row in rows])
    fresh = Outbox(path)
    try:
        fresh.restore(rows, {**meta, "next_seq": next_seq})
        fresh.note_error(f"salvaged from {aside.name}: {len(rows)} event(s), {unreadable} unreadable")
    finally:
        fresh.close()
    return SalvageReport(str(path), str(aside), len(rows), unreadable, "next_seq" in meta, next_seq,
                         meta.get("session", 0), not_a_database)


def _read(path: Path) -> tuple[list[tuple[Any, ...]], int, dict[str, int], bool]:
    """Rows, unreadable count, counters, and whether the file is no database at all."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return [], 0, {}, True
    try:
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError:
            return [], 0, {}, True  # not a database: every probe would fail, none of them is an event
        meta = _read_meta(db)
        rows, unreadable = _read_rows(db, meta["next_seq"] - 1 if "next_seq" in meta else None)
    finally:
        db.close()
    return rows, unreadable, meta, False


def _read_meta(db: sqlite3.Connection) -> dict[str, int]:
    try:
        return {key: counters.read_int(db, key) for key in counters.INTEGER_KEYS
                if db.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone()}
    except (sqlite3.Error, ValueError):
        return {}


def _read_rows(db: sqlite3.Connection, last_seq: int | None) -> tuple[list[tuple[Any, ...]], int]:
    """Readable rows in seq order and the seqs stepped over: those before a readable row, and after the
    last one only up to `last_seq` (the counters' last seq, when known): probing beyond it finds no event."""
    rows: list[tuple[Any, ...]] = []
    after, unreadable, skips, stepped = 0, 0, 0, 0
    while skips < MAX_SKIPS and (last_seq is None or after < last_seq):
        try:
            row = db.execute(f"SELECT {ROW} FROM events WHERE seq > ? ORDER BY seq LIMIT 1", (after,)).fetchone()
        except sqlite3.DatabaseError:
            after, skips = after + 1, skips + 1  # step over the damaged row (or page) seq by seq
            stepped += 1
            continue
        if row is None:
            break
        unreadable, stepped = unreadable + stepped, 0
        after = int(row[0])
        try:
            json.loads(row[4])
        except (TypeError, ValueError):
            unreadable += 1
            continue
        rows.append(tuple(row))
    if last_seq is not None:
        unreadable += stepped  # the loop stopped at last_seq: these seqs held events
    return rows, unreadable
