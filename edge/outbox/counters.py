"""Persisted counters (next seq, MQTT session, dropped, rejected, lost, last error) in the outbox file.

They live in the same SQLite file as the events so one transaction updates both: a seq is
never handed out twice, even across power cuts, because the counter and the row commit together.
"""

from __future__ import annotations

import sqlite3

META_DDL = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

# Integer counters and their starting values.
INTEGER_KEYS: dict[str, int] = {"next_seq": 1, "session": 0, "dropped": 0, "rejected": 0, "lost": 0}


def read_int(db: sqlite3.Connection, key: str) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else INTEGER_KEYS[key]


def write_int(db: sqlite3.Connection, key: str, value: int) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))


def add_int(db: sqlite3.Connection, key: str, amount: int = 1) -> int:
    """Add to a counter (inside the caller's transaction) and return the new value."""
    value = read_int(db, key) + amount
    write_int(db, key, value)
    return value


def read_text(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def write_text(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
