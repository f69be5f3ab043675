"""`shelf-node gallery check`: per plate with look-alikes, is the appearance splitter trusted yet and how many
more examples it needs.

Look-alikes are the planogram's weight twins (edge.fusion.lint), those the camera's labels cannot split (same
label, or no label) and those with distinct labels alike: a label the detector rarely sees splits nothing. For
each such plate, the gallery's examples of those SKUs taken on that plate are described
(edge.vision.appearance_embed.CropEmbedder: colour statistics, plus the detector backbone's pooled features
when the node has a [detector] model) and handed to the plate's splitter, whose leave-one-out check
(edge.vision.appearance_splitter.PlateSplitter) says whether it is trusted and, if not, how many more
examples per SKU it likely needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.errors import CameraError
from edge.fusion.lint import weight_twins
from edge.gallery.store import Gallery
from edge.planogram import Planogram

Embed = Callable[[Any], Any]  # BGR crop -> descriptor (a unit float32 vector)


@dataclass(frozen=True, slots=True)
class PlateCheck:
    plate: str
    skus: tuple[str, ...]  # the plate's look-alike SKUs
    examples: dict[str, int]  # per SKU, on this plate
    trusted: bool
    accuracy: float | None  # leave-one-out accuracy (None: too few examples to check)
    needed_more: int | None  # more examples per SKU likely needed (0 when trusted; None: unknown)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"plate": self.plate, "skus": list(self.skus), "examples": dict(self.examples),
                "trusted": self.trusted, "accuracy": None if self.accuracy is None else round(self.accuracy, 4),
                "needed_more": self.needed_more, "reason": self.reason}


def look_alikes(planogram: Planogram) -> dict[str, tuple[str, ...]]:
    """Plate -> its SKUs that are weight twins, sorted: those the camera's labels cannot split (same label, or
    none) and also those whose labels differ, since a label the detector rarely sees (a 1 L carton's "bottle")
    splits nothing on the events it is not seen on (docs/gallery.md "Appearance in the daemon")."""
    found: dict[str, set[str]] = {}
    for twin in weight_twins(planogram):
        found.setdefault(twin.plate, set()).update((twin.first, twin.second))
    return {plate: tuple(sorted(skus)) for plate, skus in sorted(found.items())}


def check_gallery(gallery: Gallery, planogram: Planogram, embed: Embed, min_accuracy: float = 0.98,
                  min_examples: int = 10) -> list[PlateCheck]:
    """`embed`: the descriptor of one crop, e.g. `CropEmbedder(model).embed(crop).combined()`; `min_accuracy` and
    `min_examples` as the daemon's splitter takes them from `[gallery]` (edge/node/appearance_feed.py)."""
    from edge.vision.appearance_splitter import PlateSplitter, SplitterSettings

    settings = SplitterSettings(min_accuracy=min_accuracy, min_examples=min_examples)
    checks = []
    for plate, skus in look_alikes(planogram).items():
        per_sku = {sku: _descriptors(gallery, sku, plate, embed) for sku in skus}
        report = PlateSplitter(plate, per_sku, settings).report
        counts = {sku: len(per_sku[sku]) for sku in skus}
        needed = report.needed_more
        fewest = min(counts.values(), default=0)
        if needed is None and fewest < settings.min_examples:  # a SKU without examples: the splitter cannot say
            needed = settings.min_examples - fewest
        checks.append(PlateCheck(plate, skus, counts, report.trusted, report.accuracy, needed, report.reason))
    return checks


def _descriptors(gallery: Gallery, sku: str, plate: str, embed: Embed) -> list[Any]:
    """The descriptors of the SKU's examples on the plate, oldest first."""
    from edge.hw.jpeg import decode_jpeg

    out = []
    for example in gallery.examples([sku], plate=plate):
        jpeg = gallery.image(example.id)
        if jpeg is None:  # dropped by the running node meanwhile
            continue
        try:
            image = decode_jpeg(np.frombuffer(jpeg, np.uint8), f"gallery example {example.id}")
        except CameraError:
            continue
        out.append(embed(image))
    return out
