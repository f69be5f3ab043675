"""`shelf-node gallery check`: per plate with look-alikes, is the appearance splitter trusted yet and how many
more examples it needs.

Look-alikes are the planogram's weight twins (edge.fusion.lint), those the camera's labels cannot split (same
label, or no label) and those with distinct labels alike: a label the detector rarely sees splits nothing. For
each such plate, the gallery's examples of those SKUs taken on that plate (or on any plate, `[gallery]
examples_from = "any_plate"`: the daemon's selection, edge/gallery/scope.py) are described, each once
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

from edge.config.gallery import ExamplesFrom
from edge.errors import CameraError
from edge.fusion.lint import weight_twins
from edge.gallery.scope import plate_examples
from edge.gallery.store import Gallery
from edge.planogram import Planogram

Embed = Callable[[Any], Any]  # BGR crop -> descriptor (a unit float32 vector)


@dataclass(frozen=True, slots=True)
class PlateCheck:
    plate: str
    skus: tuple[str, ...]  # the plate's look-alike SKUs
    examples: dict[str, int]  # per SKU, those that teach this plate's splitter (examples_from)
    trusted: bool
    accuracy: float | None  # leave-one-out accuracy (None: too few examples to check)
    needed_more: int | None  # more examples per SKU likely needed (0 when trusted; None: unknown)
    reason: str
    examples_from: ExamplesFrom = "plate"  # where the examples were taken: on this plate, or on any plate

    def to_json(self) -> dict[str, Any]:
        return {"plate": self.plate, "skus": list(self.skus), "examples": dict(self.examples),
                "trusted": self.trusted, "accuracy": None if self.accuracy is None else round(self.accuracy, 4),
                "needed_more": self.needed_more, "reason": self.reason,
                "examples_from": self.examples_from}


def look_alikes(planogram: Planogram) -> dict[str, tuple[str, ...]]:
    """Plate -> its SKUs that are weight twins, sorted: those the camera's labels cannot split (same label, or
    none) and also those whose labels differ, since a label the detector rarely sees (a 1 L carton's "bottle")
    splits nothing on the events it is not seen on (docs/gallery.md "Appearance in the daemon")."""
    found: dict[str, set[str]] = {}
    for twin in weight_twins(planogram):
        found.setdefault(twin.plate, set()).update((twin.first, twin.second))
    return {plate: tuple(sorted(skus)) for plate, skus in sorted(found.items())}


def check_gallery(gallery: Gallery, planogram: Planogram, embed: Embed, min_accuracy: float = 0.98,
                  min_examples: int = 10, examples_from: ExamplesFrom = "plate") -> list[PlateCheck]:
    """`embed`: the descriptor of one crop, e.g. `CropEmbedder(model).embed(crop).combined()`; `min_accuracy`,
    `min_examples` and `examples_from` as the daemon's splitter takes them from `[gallery]`
    (edge/node/appearance_feed.py). An example that teaches two plates is described once."""
    from edge.vision.appearance_splitter import PlateSplitter, SplitterSettings

    settings = SplitterSettings(min_accuracy=min_accuracy, min_examples=min_examples)
    described: dict[int, Any] = {}  # example id -> its descriptor (None: no picture)
    checks = []
    for plate, skus in look_alikes(planogram).items():
        per_sku: dict[str, list[Any]] = {sku: [] for sku in skus}
        for example in plate_examples(gallery, plate, skus, examples_from):
            if example.id not in described:
                described[example.id] = _descriptor(gallery, example.id, embed)
            if described[example.id] is not None:
                per_sku[example.sku].append(described[example.id])
        report = PlateSplitter(plate, per_sku, settings).report
        counts = {sku: len(per_sku[sku]) for sku in skus}
        needed = report.needed_more
        fewest = min(counts.values(), default=0)
        if needed is None and fewest < settings.min_examples:  # a SKU without examples: the splitter cannot say
            needed = settings.min_examples - fewest
        checks.append(PlateCheck(plate, skus, counts, report.trusted, report.accuracy, needed, report.reason,
                                 examples_from))
    return checks


def _descriptor(gallery: Gallery, example_id: int, embed: Embed) -> Any:
    """The example's descriptor, or None when its crop is gone (dropped by the running node meanwhile) or unreadable."""
    from edge.hw.jpeg import decode_jpeg

    jpeg = gallery.image(example_id)
    if jpeg is None:
        return None
    try:
        image = decode_jpeg(np.frombuffer(jpeg, np.uint8), f"gallery example {example_id}")
    except CameraError:
        return None
    return embed(image)
