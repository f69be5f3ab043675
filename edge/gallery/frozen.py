"""A gallery as replay reads it: labelled examples that are never written (`shelf-node replay --gallery`).

    gallery = FrozenGallery.open(Path("shelf.gallery"))   # an export directory, a copied .sqlite3, a state dir
    gallery = FrozenGallery.of_node(config)               # the node's own file, read-only (--state-gallery)

It answers what the appearance loop reads of `edge.gallery.Gallery` (examples, image, descriptors,
put_descriptor), so replay builds its splitter through the daemon's code (edge/node/appearance_feed.py).
Descriptors computed meanwhile are kept in memory only: the source is never changed, so a replay can run
beside the daemon and twice gives the same answers.

Sources:
- a directory written by `shelf-node gallery export` (`labels.csv` + `images/<sku>/<id>.jpg`): the examples in
  the CSV's order (the gallery's, oldest first), their ids from the file names;
- a gallery SQLite file copied from a node (`<state_dir>/gallery.sqlite3`), or a directory holding one (a copied
  state directory): opened read-only, its cached descriptors used when their kind matches.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.errors import StateError
from edge.gallery.export import COLUMNS
from edge.gallery.records import SOURCES, GalleryExample
from edge.gallery.store import Gallery, gallery_path

if TYPE_CHECKING:
    from edge.config import NodeConfig

FILE_NAME = "gallery.sqlite3"
REGIONS = ("detection", "hand")


class FrozenGallery:
    def __init__(self, examples: list[GalleryExample], images: dict[int, Path] | Gallery, source: str) -> None:
        """`images`: example id -> its JPEG file (an export), or the read-only Gallery holding them."""
        self._examples = examples
        self._images = images
        self.source = source  # what it was read from, for the summary
        self._memo: dict[tuple[int, str], np.ndarray] = {}

    # -- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path) -> FrozenGallery:
        """An export directory, a gallery file, or a directory holding `gallery.sqlite3`; StateError (saying what
        was expected) for anything else."""
        if path.is_dir():
            if (path / "labels.csv").is_file():
                return cls.from_export(path)
            if (path / FILE_NAME).is_file():
                return cls.from_file(path / FILE_NAME)
            raise StateError(f"{path}: neither a `shelf-node gallery export` directory (no labels.csv) nor a node's "
                             f"state directory (no {FILE_NAME}); give one of those, or the gallery file itself")
        if path.is_file():
            return cls.from_file(path)
        raise StateError(f"gallery {path}: not found; give a `shelf-node gallery export` directory or a gallery "
                         f"file copied from a node ({FILE_NAME})")

    @classmethod
    def of_node(cls, config: NodeConfig) -> FrozenGallery:
        """The node's own gallery (`[gallery] path`, else `<state_dir>/gallery.sqlite3`), read-only."""
        return cls.from_file(gallery_path(config))

    @classmethod
    def from_file(cls, path: Path) -> FrozenGallery:
        gallery = Gallery(path, readonly=True)  # StateError for a missing, damaged or foreign file
        return cls(gallery.examples(), gallery, str(path))

    @classmethod
    def from_export(cls, directory: Path) -> FrozenGallery:
        labels = directory / "labels.csv"
        try:
            with labels.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise StateError(f"{labels}: cannot be read ({exc}); export the gallery again") from None
        examples: list[GalleryExample] = []
        images: dict[int, Path] = {}
        for line, row in enumerate(rows, start=2):
            example = _example(row, len(examples) + 1, f"{labels}:{line}")
            if example.id in images:
                raise StateError(f"{labels}:{line}: example {example.id} appears twice; export the gallery again")
            examples.append(example)
            images[example.id] = directory / row["file"]
        return cls(examples, images, str(directory))

    # -- what the appearance loop reads --------------------------------------------------------------
    def examples(self, skus: Iterable[str] | None = None, plate: str | None = None) -> list[GalleryExample]:
        wanted = None if skus is None else set(skus)
        return [e for e in self._examples
                if (wanted is None or e.sku in wanted) and (plate is None or e.plate == plate)]

    def image(self, example_id: int) -> bytes | None:
        if isinstance(self._images, Gallery):
            return self._images.image(example_id)
        path = self._images.get(example_id)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:  # a file missing from the export: that example has no picture (as one pruned meanwhile)
            return None

    def descriptors(self, kind: str, skus: Iterable[str] | None = None) -> dict[str, list[tuple[int, Any]]]:
        wanted = None if skus is None else set(skus)
        stored = self._images.descriptors(kind, wanted) if isinstance(self._images, Gallery) else {}
        known = {example_id for rows in stored.values() for example_id, _ in rows}
        out = {sku: list(rows) for sku, rows in stored.items()}
        for e in self._examples:
            vector = self._memo.get((e.id, kind))
            if vector is not None and e.id not in known and (wanted is None or e.sku in wanted):
                out.setdefault(e.sku, []).append((e.id, vector))
        return out

    def put_descriptor(self, example_id: int, kind: str, vector: Any) -> None:
        """Kept for this run only: the source is never written."""
        self._memo[example_id, kind] = np.ascontiguousarray(vector, dtype=np.float32)

    def counts(self) -> dict[str, int]:
        """Examples per SKU."""
        out: dict[str, int] = {}
        for e in self._examples:
            out[e.sku] = out.get(e.sku, 0) + 1
        return dict(sorted(out.items()))

    def close(self) -> None:
        if isinstance(self._images, Gallery):
            self._images.close()


def _example(row: dict[str, str], fallback_id: int, where: str) -> GalleryExample:
    missing = [c for c in COLUMNS if c not in row or row[c] is None]
    if missing:
        raise StateError(f"{where}: no {', '.join(missing)} column; a `shelf-node gallery export` labels.csv has "
                         f"{','.join(COLUMNS)}")
    try:
        stem = Path(row["file"]).stem
        example_id = int(stem) if stem.isdigit() else fallback_id
        box = (int(row["x1"]), int(row["y1"]), int(row["x2"]), int(row["y2"]))
        confidence = float(row["confidence"]) if row["confidence"] else None
        t, nbytes = float(row["t_unix"]), int(row["bytes"])
    except ValueError as exc:
        raise StateError(f"{where}: {exc}; export the gallery again") from None
    if not row["sku"] or not row["plate"]:
        raise StateError(f"{where}: an example without a sku or plate; export the gallery again")
    source, region = row["source"], row["region"]
    if source not in SOURCES or region not in REGIONS:
        raise StateError(f"{where}: source {source!r} / region {region!r}: expected one of {', '.join(SOURCES)} / "
                         f"{', '.join(REGIONS)}")
    return GalleryExample(example_id, row["sku"], row["plate"], t, confidence, source,
                          row["event_id"] or None, region, row["label"] or None, box, nbytes)  # type: ignore[arg-type]
