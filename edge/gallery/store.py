"""The gallery: labelled crops per SKU in one SQLite file, bounded, oldest out first (docs/gallery.md).

    gallery = Gallery(path, config.gallery)
    gallery.add("APPLE-GS", crop, source="auto", confidence=0.9995, event_id="6f0c...")
    gallery.examples(skus=["APPLE-GS", "APPLE-PL"])      # labelled examples, oldest first
    gallery.image(example_id)                            # the crop's JPEG
    gallery.put_descriptor(example_id, "hsv-v1", vector) # a splitter's cache, dropped with the example
    gallery.descriptors("hsv-v1", skus)                  # sku -> [(id, vector)]

Bounds, enforced in the transaction that adds: per SKU at most `max_per_sku` crops and
`max_bytes_per_sku` bytes (its oldest go first), and all SKUs together at most `max_total_bytes` (the
SKU holding the most bytes loses its oldest first, so a rare SKU keeps its few examples).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from edge.config.gallery import GallerySection
from edge.errors import StateError
from edge.gallery.db import GalleryDb
from edge.gallery.records import Crop, GalleryExample, GalleryStatus, ReviewOutcomes, SkuSummary, Source

if TYPE_CHECKING:
    from edge.config import NodeConfig

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
EXAMPLE_COLUMNS = "id, sku, plate, t, confidence, source, event_id, region, label, x1, y1, x2, y2, nbytes"


def gallery_path(config: NodeConfig) -> Path:
    return config.gallery.path or config.node.state_dir / "gallery.sqlite3"


class Gallery:
    def __init__(self, path: Path, settings: GallerySection | None = None, readonly: bool = False) -> None:
        self.path = path
        self.settings = settings or GallerySection()
        self.db = GalleryDb(path, readonly=readonly)

    @classmethod
    def for_config(cls, config: NodeConfig, readonly: bool = False) -> Gallery:
        return cls(gallery_path(config), config.gallery, readonly=readonly)

    @classmethod
    def for_node(cls, config: NodeConfig) -> Gallery:
        """The daemon's gallery: a damaged file (or another schema) is moved aside, loudly, and a new one
        started: crops are gathered again by themselves, while a node that refused to start records nothing."""
        try:
            return cls.for_config(config)
        except StateError as exc:
            path = gallery_path(config)
            if not path.is_file():
                raise
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
            for suffix in ("", "-wal", "-shm"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    part.rename(aside.with_name(aside.name + suffix))
            log.error("%s; moved it aside to %s and started a new, empty gallery", exc, aside)
            return cls.for_config(config)

    def close(self) -> None:
        self.db.close()

    # -- writing ------------------------------------------------------------------------------------
    def add(self, sku: str, crop: Crop, source: Source, confidence: float | None = None,
            event_id: str | None = None, now: float | None = None) -> int | None:
        """Store one labelled crop and apply the bounds; its id, or None when it alone is over the per-SKU
        byte bound (nothing stored). StateError when the file refuses the write (disk full)."""
        with self.db.write("store a crop") as db:
            return insert_example(db, self.settings, sku, crop, source, confidence, event_id,
                                  crop.t if now is None else now)

    def put_descriptor(self, example_id: int, kind: str, vector: Vector) -> None:
        data = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        with self.db.write("store a descriptor") as db:
            if db.execute("SELECT 1 FROM examples WHERE id = ?", (example_id,)).fetchone() is None:
                return  # pruned meanwhile: nothing to describe
            db.execute("INSERT OR REPLACE INTO descriptors (example_id, kind, vector) VALUES (?, ?, ?)",
                       (example_id, kind, data))

    # -- reading ------------------------------------------------------------------------------------
    def examples(self, skus: Iterable[str] | None = None, plate: str | None = None) -> list[GalleryExample]:
        """Labelled examples, oldest first, of these SKUs (None: all), optionally of one plate only."""
        query, args = f"SELECT {EXAMPLE_COLUMNS} FROM examples", []
        where = []
        if skus is not None:
            wanted = sorted(set(skus))
            where.append(f"sku IN ({', '.join('?' * len(wanted))})")
            args.extend(wanted)
        if plate is not None:
            where.append("plate = ?")
            args.append(plate)
        if where:
            query += " WHERE " + " AND ".join(where)
        with self.db.read() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [_example(row) for row in rows]

    def image(self, example_id: int) -> bytes | None:
        with self.db.read() as db:
            row = db.execute("SELECT jpeg FROM examples WHERE id = ?", (example_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def skus(self) -> list[str]:
        with self.db.read() as db:
            return [row[0] for row in db.execute("SELECT DISTINCT sku FROM examples ORDER BY sku")]

    def descriptors(self, kind: str, skus: Iterable[str] | None = None) -> dict[str, list[tuple[int, Vector]]]:
        """SKU -> [(example id, vector)] for the examples that have a `kind` descriptor, oldest first."""
        query = ("SELECT e.sku, e.id, d.vector FROM descriptors d JOIN examples e ON e.id = d.example_id "
                 "WHERE d.kind = ?")
        args: list[Any] = [kind]
        if skus is not None:
            wanted = sorted(set(skus))
            query += f" AND e.sku IN ({', '.join('?' * len(wanted))})"
            args.extend(wanted)
        out: dict[str, list[tuple[int, Vector]]] = {}
        with self.db.read() as db:
            for sku, example_id, blob in db.execute(query + " ORDER BY e.id", args):
                out.setdefault(sku, []).append((example_id, np.frombuffer(blob, dtype=np.float32).copy()))
        return out

    def summaries(self) -> list[SkuSummary]:
        with self.db.read() as db:
            rows = db.execute("SELECT sku, COUNT(*), SUM(nbytes), MIN(t), MAX(t) FROM examples GROUP BY sku "
                              "ORDER BY sku").fetchall()
            sources: dict[str, dict[str, int]] = {}
            for sku, source, count in db.execute("SELECT sku, source, COUNT(*) FROM examples GROUP BY sku, source"):
                sources.setdefault(sku, {})[source] = count
        return [SkuSummary(sku, count, nbytes, oldest, newest, sources.get(sku, {}))
                for sku, count, nbytes, oldest, newest in rows]

    def status(self, counters: dict[str, int] | None = None, restock_sku: str | None = None) -> GalleryStatus:
        summaries = self.summaries()
        with self.db.read() as db:
            pending = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]
            items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            reviews = review_outcomes(db)
        return GalleryStatus(str(self.path), sum(s.count for s in summaries), sum(s.bytes for s in summaries),
                             pending, items, tuple(summaries), reviews, dict(counters or {}), restock_sku)

    def outcomes(self) -> list[dict[str, Any]]:
        """Every reviewer answer as recorded, oldest first (`gallery export` writes them to outcomes.csv)."""
        columns = ("event_id", "answered", "confidence", "review_required", "reasons", "node_action", "node_lines",
                   "true_action", "true_lines", "correct", "reviewer")
        with self.db.read() as db:
            rows = db.execute(f"SELECT {', '.join(columns)} FROM outcomes ORDER BY answered").fetchall()
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def calibration_rows(self) -> list[tuple[float, bool, bool]]:
        """(confidence, node was right, event was flagged) per reviewer answer, oldest first: the rows
        `edge.fusion.confidence` fits a calibration from (docs/gallery.md, "Review answers")."""
        with self.db.read() as db:
            rows = db.execute("SELECT confidence, correct, review_required FROM outcomes ORDER BY answered")
            return [(float(c), bool(ok), bool(flagged)) for c, ok, flagged in rows]


def insert_example(db: sqlite3.Connection, settings: GallerySection, sku: str, crop: Crop, source: Source,
                   confidence: float | None, event_id: str | None, now: float) -> int | None:
    """Inside a write transaction: one example in, then the bounds."""
    size = len(crop.jpeg)
    if size > settings.max_bytes_per_sku:
        return None
    x1, y1, x2, y2 = crop.box
    cursor = db.execute(
        "INSERT INTO examples (sku, plate, t, added, confidence, source, event_id, region, label, x1, y1, x2, y2, "
        "nbytes, jpeg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sku, crop.plate, crop.t, now, confidence, source, event_id, crop.region, crop.label, x1, y1, x2, y2, size,
         crop.jpeg))
    example_id = cursor.lastrowid
    enforce_bounds(db, settings, sku)
    return example_id


def enforce_bounds(db: sqlite3.Connection, settings: GallerySection, sku: str) -> int:
    """Drop the oldest examples past the bounds; how many went."""
    dropped = 0
    while True:
        count, nbytes = db.execute("SELECT COUNT(*), COALESCE(SUM(nbytes), 0) FROM examples WHERE sku = ?",
                                   (sku,)).fetchone()
        if count <= settings.max_per_sku and nbytes <= settings.max_bytes_per_sku:
            break
        db.execute("DELETE FROM examples WHERE id = (SELECT MIN(id) FROM examples WHERE sku = ?)", (sku,))
        dropped += 1
    while db.execute("SELECT COALESCE(SUM(nbytes), 0) FROM examples").fetchone()[0] > settings.max_total_bytes:
        largest = db.execute("SELECT sku FROM examples GROUP BY sku ORDER BY SUM(nbytes) DESC, sku LIMIT 1").fetchone()
        db.execute("DELETE FROM examples WHERE id = (SELECT MIN(id) FROM examples WHERE sku = ?)", (largest[0],))
        dropped += 1
    return dropped


def review_outcomes(db: sqlite3.Connection) -> ReviewOutcomes:
    row = db.execute("SELECT COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(1 - review_required), 0), "
                     "COALESCE(SUM((1 - review_required) * (1 - correct)), 0) FROM outcomes").fetchone()
    answered, right, accepted, accepted_wrong = (int(v) for v in row)
    return ReviewOutcomes(answered, right, answered - right, accepted, accepted_wrong)


def _example(row: tuple[Any, ...]) -> GalleryExample:
    (example_id, sku, plate, t, confidence, source, event_id, region, label, x1, y1, x2, y2, nbytes) = row
    return GalleryExample(example_id, sku, plate, t, confidence, source, event_id, region, label,
                          (x1, y1, x2, y2), nbytes)
