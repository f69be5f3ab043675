"""The durable outbox: every event is committed to SQLite (WAL, synchronous=FULL) before it is sent.

A row leaves the outbox only when the broker acknowledged it (PUBACK), so delivery is at least
once; `event_id` (a UUID fixed at append time) lets the hub drop duplicates. A row the broker
refused (MQTT 5 PUBACK reason >= 0x80, e.g. not authorized) is kept as `rejected`, counted and
exportable, never treated as delivered.

Bounds: `max_events` refuses appends with OutboxError when full, unless `drop_oldest` is set,
in which case the oldest pending rows are dropped and counted. `max_age_s` only drops (with
`drop_oldest`); without it old rows are kept and show up as `oldest_age_s` in stats.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config.outbox import OutboxSection
from edge.errors import OutboxError
from edge.outbox import counters
from edge.outbox.holding import MAX_HELD, Held, Holding
from edge.outbox.status import OutboxStatus

log = logging.getLogger(__name__)

EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    produced_at REAL NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT
)
"""


class OutboxCorruptError(OutboxError):
    """The outbox file is damaged (not a database, or a malformed page)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"outbox {path} is corrupt ({detail}); stop the daemon and run 'shelf-node outbox salvage' to copy "
            f"every readable event into a new file (the damaged one is kept aside), or move the file away to "
            f"start empty; see docs/mqtt.md 'Corrupt outbox'")
        self.path = path
        self.detail = detail


def is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text or "not a database" in text


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """What append() assigned to an event: its place in the stream and its stable id."""

    seq: int
    event_id: str
    produced_at: float


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    event_id: str
    kind: str
    produced_at: float
    body: dict[str, Any]
    state: str = "pending"
    reason: str | None = None


class Outbox:
    """Thread-safe SQLite queue. One instance per file; all methods may be called from any thread."""

    def __init__(self, path: str | Path, section: OutboxSection | None = None,
                 clock: Callable[[], float] = time.time, max_held: int = MAX_HELD) -> None:
        self.path = Path(path)
        self.section = section or OutboxSection()
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []  # told after each stored event (add_listener)
        self._last_error: str | None = None
        self._failing = False
        self._holding = Holding(lambda held: self._append_text(held.kind, held.text, held.produced_at,
                                                                held.event_id), self._burn, max_held)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"outbox {self.path}: cannot open: {exc}; check the path and permissions "
                              f"([outbox] path or [node] state_dir)") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._check_integrity()
            self._db.execute(EVENTS_DDL)
            self._db.execute(counters.META_DDL)
            self._depth = int(self._db.execute("SELECT COUNT(*) FROM events WHERE state = 'pending'").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if is_corruption(exc):
                raise OutboxCorruptError(self.path, str(exc)) from None
            raise OutboxError(f"outbox {self.path}: cannot open: {exc}; check the path, its permissions and free "
                              f"space ([outbox] path or [node] state_dir)") from None

    def _check_integrity(self) -> None:
        """quick_check at open: a damaged file is found here, with a way out, not at the first append."""
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"database disk image is malformed ({'; '.join(problems)[:300]})")

    # -- producing ---------------------------------------------------------------------------

    def append(self, kind: str, body: dict[str, Any], produced_at: float) -> EnvelopeInfo:
        """Commit one event durably (fsync) and return its seq and event_id. Raises OutboxError."""
        return self._append_text(kind, _encode(kind, body), produced_at)

    def submit(self, kind: str, body: dict[str, Any], produced_at: float,
               event_id: str | None = None) -> EnvelopeInfo | None:
        """The node's way in: never raises and never loses an event silently. `event_id` (default: a new UUID)
        is the one the event is stored with, also after waiting in memory: an item event made meanwhile can
        name the weight event it rests on (`new_event_id()`).

        Stored now: its EnvelopeInfo. Refused by the file (disk full, I/O error, max_events): None,
        and it waits in memory behind any other held events, retried until the file takes it
        (see edge/outbox/holding.py). Only a full memory queue or a body that is not JSON loses an
        event; its seq is then skipped, so the hub sees the gap, and it is counted as `lost`.
        """
        event_id = event_id or self.new_event_id()
        try:
            text = _encode(kind, body)
        except OutboxError as exc:
            log.error("event LOST: %s; its seq will be skipped", exc)
            self._holding.submit(None, None)
            self._holding.flush()
            return None
        if self._holding.empty or self._holding.flush():
            try:
                return self._append_text(kind, text, produced_at, event_id)
            except OutboxError as exc:
                self._holding.submit(Held(kind, text, produced_at, event_id), exc)
                return None
        self._holding.submit(Held(kind, text, produced_at, event_id), None)
        return None

    @staticmethod
    def new_event_id() -> str:
        return str(uuid.uuid4())

    def _append_text(self, kind: str, text: str, produced_at: float, event_id: str | None = None) -> EnvelopeInfo:
        event_id = event_id or self.new_event_id()
        with self._lock, self._write("cannot store event"):
            self._enforce_bounds()
            seq = counters.read_int(self._db, "next_seq")
            counters.write_int(self._db, "next_seq", seq + 1)
            self._db.execute("INSERT INTO events (seq, event_id, kind, produced_at, body) VALUES (?, ?, ?, ?, ?)",
                             (seq, event_id, kind, produced_at, text))
        self._depth += 1
        for listener in self._listeners:
            listener()
        return EnvelopeInfo(seq=seq, event_id=event_id, produced_at=produced_at)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (on the appending thread, after the commit, outside the lock) each time an event
        is stored: the MQTT link's wake-up, so a new event is published at once instead of at its next poll.
        It must be quick and must not raise."""
        self._listeners.append(listener)

    def _burn(self, count: int) -> None:
        """Skip `count` seqs and count them lost, so the hub sees a gap where the lost events were."""
        with self._lock, self._write(f"cannot record {count} lost event(s)"):
            seq = counters.read_int(self._db, "next_seq")
            counters.write_int(self._db, "next_seq", seq + count)
            total = counters.add_int(self._db, "lost", count)
        log.error("outbox: seq %d..%d skipped for %d lost event(s); %d lost in total", seq, seq + count - 1, count,
                  total)
        self.note_error(f"{count} event(s) lost (seq {seq}..{seq + count - 1} skipped)")

    @contextmanager
    def _write(self, what: str) -> Iterator[None]:
        """Under the lock: one write transaction. On an SQLite error it is rolled back (unless SQLite did
        already, as on a full disk at COMMIT, so the real error is kept), remembered (in memory if the
        file cannot take it) and raised as OutboxError saying `what` failed and what to do."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback_quietly()
                raise
        except sqlite3.Error as exc:
            self._failing = True
            self._note_error_unlocked(f"{what}: {exc}")
            raise OutboxError(f"outbox {self.path}: {what}: {exc}; {_hint(exc)}") from None
        self._failing = False

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Under the lock: an SQLite error while reading becomes an OutboxError that says what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: {what}: {exc}; {_hint(exc)}") from None

    def _enforce_bounds(self) -> None:
        """Inside the append transaction: expire by age, then make room (or refuse) by count."""
        section = self.section
        if section.drop_oldest and section.max_age_s is not None:
            cutoff = self._clock() - section.max_age_s
            dropped = self._db.execute(
                "DELETE FROM events WHERE state = 'pending' AND produced_at < ?", (cutoff,)
            ).rowcount
            self._count_drops(dropped, f"older than max_age_s={section.max_age_s:g}")
        if section.max_events is None or self._depth < section.max_events:
            return
        if not section.drop_oldest:
            raise OutboxError(
                f"outbox {self.path}: full ({self._depth} events >= max_events={section.max_events}); "
                f"the broker is unreachable: fix the link, raise [outbox] max_events, or set drop_oldest = true"
            )
        excess = self._depth - section.max_events + 1
        dropped = self._db.execute(
            "DELETE FROM events WHERE seq IN "
            "(SELECT seq FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?)", (excess,)
        ).rowcount
        self._count_drops(dropped, f"max_events={section.max_events} reached")

    def _count_drops(self, dropped: int, why: str) -> None:
        if dropped <= 0:
            return
        self._depth -= dropped
        total = counters.add_int(self._db, "dropped", dropped)
        log.warning("outbox: dropped %d oldest undelivered event(s) (%s); %d dropped in total", dropped, why, total)

    # -- delivering --------------------------------------------------------------------------

    def pending_after(self, seq: int, limit: int) -> list[OutboxRow]:
        """Pending rows with seq > `seq`, oldest first."""
        with self._lock, self._reading("cannot read pending events"):
            rows = self._db.execute(
                "SELECT seq, event_id, kind, produced_at, body FROM events "
                "WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [OutboxRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def mark_delivered(self, seqs: Iterable[int]) -> int:
        """Remove acknowledged rows in one transaction; returns how many were removed."""
        batch = [(seq,) for seq in seqs]
        if not batch:
            return 0
        with self._lock:
            with self._write("cannot remove delivered events"):
                before = self._db.total_changes
                self._db.executemany("DELETE FROM events WHERE seq = ? AND state = 'pending'", batch)
                removed = self._db.total_changes - before
            self._depth -= removed
        return removed

    def mark_rejected(self, seq: int, reason: str) -> None:
        """The broker refused this row: keep it (for export), stop sending it, count it."""
        with self._lock:
            with self._write(f"cannot mark seq {seq} rejected"):
                changed = self._db.execute(
                    "UPDATE events SET state = 'rejected', reason = ? WHERE seq = ? AND state = 'pending'",
                    (reason, seq),
                ).rowcount
                if changed:
                    counters.add_int(self._db, "rejected", 1)
                    counters.write_text(self._db, "last_error", f"seq {seq} rejected by broker: {reason}")
            self._depth -= changed

    def next_session(self) -> int:
        """Increment and return the persisted MQTT session number (one per connection)."""
        with self._lock, self._write("cannot store the MQTT session counter"):
            value = counters.add_int(self._db, "session", 1)
        return value

    def note_error(self, message: str) -> None:
        """Remember the last delivery problem (shown by `shelf-node outbox status`)."""
        with self._lock:
            self._note_error_unlocked(message)

    def _note_error_unlocked(self, message: str) -> None:
        """Kept in memory first (status shows it even when the file cannot store it), then in the file."""
        self._last_error = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {message}"
        if self._db.in_transaction:
            return  # inside a failed write: the file is what refuses; memory is enough
        try:
            counters.write_text(self._db, "last_error", self._last_error)
        except sqlite3.Error as exc:
            log.debug("outbox: last error kept in memory only (%s)", exc)

    def _rollback_quietly(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- inspecting --------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return self._depth

    def status(self) -> OutboxStatus:
        """Depth, oldest age, counters, what waits in memory, and the last error."""
        with self._lock, self._reading("cannot read its counters"):
            oldest = self._db.execute(
                "SELECT MIN(seq), MIN(produced_at) FROM events WHERE state = 'pending'").fetchone()
            rejected_now = self._db.execute("SELECT COUNT(*) FROM events WHERE state = 'rejected'").fetchone()[0]
            values = {key: counters.read_int(self._db, key) for key in counters.INTEGER_KEYS}
            last_error = self._last_error or counters.read_text(self._db, "last_error")
        holding = self._holding
        return OutboxStatus(
            path=str(self.path),
            depth=self._depth,
            oldest_seq=oldest[0],
            oldest_age_s=None if oldest[1] is None else round(max(0.0, self._clock() - oldest[1]), 3),
            last_seq=values["next_seq"] - 1,
            session=values["session"],
            dropped=values["dropped"],
            rejected=values["rejected"],
            rejected_kept=int(rejected_now),
            lost=values["lost"] + holding.unrecorded_losses,
            held=holding.held,
            healthy=not self._failing and holding.empty,
            last_error=last_error,
        )

    def iter_rows(self, include_rejected: bool = True) -> Iterator[OutboxRow]:
        """Every stored row, oldest first (pending, and rejected ones unless excluded)."""
        states = ("pending", "rejected") if include_rejected else ("pending",)
        with self._lock, self._reading("cannot read its events"):
            rows = self._db.execute(
                f"SELECT seq, event_id, kind, produced_at, body, state, reason FROM events "
                f"WHERE state IN ({','.join('?' * len(states))}) ORDER BY seq", states
            ).fetchall()
        for r in rows:
            yield OutboxRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6])

    def restore(self, rows: Iterable[tuple[Any, ...]], values: dict[str, int]) -> None:
        """Salvage only (edge/outbox/salvage.py): put rows (ROW columns) and counters into this new file."""
        with self._lock:
            with self._write("cannot write the salvaged events"):
                self._db.executemany(
                    "INSERT INTO events (seq, event_id, kind, produced_at, body, state, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                for key, value in values.items():
                    counters.write_int(self._db, key, value)
            self._depth = int(self._db.execute("SELECT COUNT(*) FROM events WHERE state = 'pending'").fetchone()[0])

    def close(self) -> None:
        """Last try for held events (see holding.py), then close the file."""
        self._holding.close()
        with self._lock:
            self._db.close()


def _encode(kind: str, body: dict[str, Any]) -> str:
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutboxError(f"outbox: event body of kind {kind!r} is not JSON-serialisable: {exc}") from None


def _hint(exc: sqlite3.Error) -> str:
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc):
        return ("free space on the disk that holds it (old captures, logs, snapshots); events wait in memory "
                "meanwhile")
    if is_corruption(exc):
        return ("the file is corrupt: restart the node (it salvages a corrupt outbox at start) or stop it and "
                "run 'shelf-node outbox salvage'")
    return "check the disk and its free space"
