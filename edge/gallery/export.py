"""`shelf-node gallery export DIR`: the gallery as a dataset, images and one CSV of labels.

    DIR/images/<sku>/<id>.jpg
    DIR/labels.csv   file,sku,plate,t_unix,t_iso,confidence,source,event_id,region,label,x1,y1,x2,y2,bytes
    DIR/outcomes.csv event_id,answered_iso,confidence,review_required,reasons,node_action,node_lines,true_action,
                     true_lines,correct,reviewer   (the reviewers' answers, for calibration)

DIR must be new or empty (an export never mixes with another). The CSV is written last, through a temp file
and a rename, so a labels.csv present means a complete export.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge.atomic_file import replace_atomically
from edge.errors import StateError
from edge.gallery.store import Gallery

COLUMNS = ("file", "sku", "plate", "t_unix", "t_iso", "confidence", "source", "event_id", "region", "label",
           "x1", "y1", "x2", "y2", "bytes")
OUTCOME_COLUMNS = ("event_id", "answered_iso", "confidence", "review_required", "reasons", "node_action",
                   "node_lines", "true_action", "true_lines", "correct", "reviewer")


@dataclass(frozen=True, slots=True)
class ExportResult:
    directory: Path
    images: int
    bytes: int
    skus: int
    outcomes: int = 0

    def to_json(self) -> dict[str, object]:
        return {"directory": str(self.directory), "images": self.images, "bytes": self.bytes, "skus": self.skus,
                "outcomes": self.outcomes}


def export_dataset(gallery: Gallery, directory: Path) -> ExportResult:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise StateError(f"{directory} exists and is not an empty directory; name a new one (an export never "
                         f"mixes with other files)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create {directory}: {exc.strerror or exc}") from None
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    total = images = 0
    skus = set()
    for example in gallery.examples():
        jpeg = gallery.image(example.id)
        if jpeg is None:  # dropped by the running node meanwhile
            continue
        relative = Path("images") / example.sku / f"{example.id}.jpg"
        target = directory / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(jpeg)
        except OSError as exc:
            raise StateError(f"cannot write {target}: {exc.strerror or exc}; free space or name another "
                             f"directory") from None
        writer.writerow((relative.as_posix(), example.sku, example.plate, f"{example.t:.3f}",
                         _iso(example.t),
                         "" if example.confidence is None else f"{example.confidence:.6f}", example.source,
                         example.event_id or "", example.region, example.label or "", *example.box, len(jpeg)))
        total += len(jpeg)
        images += 1
        skus.add(example.sku)
    outcomes = gallery.outcomes()
    answers = io.StringIO()
    out = csv.writer(answers, lineterminator="\n")
    out.writerow(OUTCOME_COLUMNS)
    for row in outcomes:
        out.writerow((row["event_id"], _iso(row["answered"]), f"{row['confidence']:.6f}", int(row["review_required"]),
                      row["reasons"], row["node_action"], row["node_lines"], row["true_action"], row["true_lines"],
                      int(row["correct"]), row["reviewer"] or ""))
    for name, content in (("outcomes.csv", answers), ("labels.csv", text)):  # labels.csv last: the export is whole
        try:
            replace_atomically(directory / name, content.getvalue().encode("utf-8"), durable=True)
        except OSError as exc:
            raise StateError(f"cannot write {directory / name}: {exc.strerror or exc}") from None
    return ExportResult(directory, images, total, len(skus), len(outcomes))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
