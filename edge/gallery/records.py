"""The gallery's records: a crop to store, a stored example, and the typed status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["auto", "restock", "review"]  # accepted by fusion alone, declared by the operator, a reviewer
Region = Literal["detection", "hand"]  # the detector's box of the item, or the hand's box over the plate
SOURCES: tuple[Source, ...] = ("auto", "restock", "review")

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True, slots=True)
class Crop:
    """A picture of one plate's item from one camera frame, not labelled yet."""

    plate: str
    t: float  # the frame's time (unix s)
    region: Region
    label: str | None  # the detector's label of the box (None for a hand region)
    box: Box
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class GalleryExample:
    """A labelled crop as stored (the JPEG itself through `Gallery.image(id)`)."""

    id: int
    sku: str
    plate: str
    t: float
    confidence: float | None  # fusion's calibrated confidence (None for restock and review labels)
    source: Source
    event_id: str | None  # the item event it came from (None for a restock without one)
    region: Region
    label: str | None
    box: Box
    nbytes: int


@dataclass(frozen=True, slots=True)
class SkuSummary:
    sku: str
    count: int
    bytes: int
    oldest_t: float
    newest_t: float
    sources: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "count": self.count, "bytes": self.bytes, "oldest_t": round(self.oldest_t, 3),
                "newest_t": round(self.newest_t, 3), "sources": dict(self.sources)}


@dataclass(frozen=True, slots=True)
class ReviewOutcomes:
    """What reviewers answered about this node's item events (persisted: `Gallery.calibration_rows`)."""

    answered: int = 0
    node_right: int = 0
    node_wrong: int = 0
    accepted_answered: int = 0  # answers about events the node had accepted (audits)
    accepted_wrong: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"answered": self.answered, "node_right": self.node_right, "node_wrong": self.node_wrong,
                "accepted_answered": self.accepted_answered, "accepted_wrong": self.accepted_wrong}


@dataclass(frozen=True, slots=True)
class GalleryStatus:
    """`stats.parts.gallery` and `shelf-node gallery status`."""

    path: str
    examples: int
    bytes: int
    pending: int  # crops of flagged events waiting for a reviewer
    items: int  # item events remembered for review answers
    skus: tuple[SkuSummary, ...]
    reviews: ReviewOutcomes
    counters: dict[str, int] = field(default_factory=dict)  # the feed's: stored, skipped_*, errors...
    restock_sku: str | None = None  # the SKU an operator declared for the restock session now
    appearance: dict[str, Any] | None = None  # the node's splitters (edge/node/appearance_feed.py), if running

    def to_json(self, per_sku: bool = False) -> dict[str, Any]:
        """`per_sku` adds one summary per SKU (the CLI); `stats` carries only their number (a catalogue may
        hold thousands)."""
        data: dict[str, Any] = {
            "path": self.path, "examples": self.examples, "bytes": self.bytes, "pending": self.pending,
            "items": self.items, "sku_count": len(self.skus), "reviews": self.reviews.to_json(),
            "counters": dict(self.counters), "restock_sku": self.restock_sku}
        if per_sku:
            data["skus"] = [s.to_json() for s in self.skus]
        if self.appearance is not None:
            data["appearance"] = self.appearance
        return data


Line = tuple[str, int, str | None]  # (sku, count, plate or None)


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """What the gallery remembers of an item event, so that a reviewer's answer can name it."""

    event_id: str
    seq: int | None
    t_start: float
    t_end: float
    action: str
    lines: tuple[Line, ...]
    plates: tuple[str, ...]
    confidence: float
    review_required: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReviewAnswer:
    """A reviewer's verdict on one item event: what really happened (`lines` empty: no product moved)."""

    event_id: str
    action: str | None  # pick | put | restock; None: the event's own action
    lines: tuple[Line, ...]
    reviewer: str | None = None
