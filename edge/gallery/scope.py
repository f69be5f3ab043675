"""Which gallery examples teach a look-alike plate's splitter (`[gallery] examples_from`, docs/gallery.md
"Where a splitter's examples come from"). One selection for the daemon's refresh and its poisoning guard
(edge/node/appearance_feed.py), replay (which runs that refresh over a frozen gallery) and `gallery check`
(edge/gallery/check.py), so the three build the same splitter from the same gallery.

- `plate`: the examples of the plate's look-alike SKUs taken on that plate;
- `any_plate`: the examples of those SKUs taken on any plate of the node (the SKU's other facings: a plate
  where it lives alone, or beside a SKU of another weight, whose picks fusion settles with confidence enough
  to label their crops).

`plates_taught` is the converse: the plates whose splitter an example of a SKU taken on a plate teaches, so
the guard asks every splitter a new self-labelled crop will feed, not only its own plate's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from edge.config.gallery import ExamplesFrom
from edge.gallery.records import GalleryExample


class ExampleSource(Protocol):
    """edge.gallery.Gallery, or replay's edge.gallery.frozen.FrozenGallery."""

    def examples(self, skus: Iterable[str] | None = None, plate: str | None = None) -> list[GalleryExample]: ...


def plate_examples(gallery: ExampleSource, plate: str, skus: Iterable[str],
                   examples_from: ExamplesFrom) -> list[GalleryExample]:
    """The labelled examples of `skus` (the plate's look-alikes) that teach `plate`'s splitter, oldest first."""
    if examples_from == "any_plate":
        return gallery.examples(skus)
    return gallery.examples(skus, plate=plate)


def plates_taught(sku: str, plate: str, look_alikes: Mapping[str, Iterable[str]],
                  examples_from: ExamplesFrom) -> list[str]:
    """The plates (of `look_alikes`: plate -> its look-alike SKUs) whose splitter an example of `sku` taken on
    `plate` teaches, sorted: `plate_examples`' converse."""
    if examples_from == "any_plate":
        return sorted(p for p, skus in look_alikes.items() if sku in skus)
    return [plate] if sku in look_alikes.get(plate, ()) else []
