"""The simulated day of bench/gallery.py: picks through fusion with the splitter of the gallery so far, each
crop labelled as the node labels it, and the per-plate galleries the splitter is built from.

**Labels** (docs/gallery.md "Where labels come from"): a flagged event's crop waits for the reviewer, whose
answer (`cmd/review_answer`) is the truth: every flagged event is answered here; an accepted event labels its
crop by itself only as `edge.node.gallery_feed.auto_label` says (one SKU, calibrated confidence >= [gallery]
min_confidence 0.999); any other event gives no label. With `poison`, that share of the labels (of either
source) is the plate's other SKU instead.

**Scope** of a twin plate's splitter, the node's `[gallery] examples_from` and its own selection
(edge.gallery.scope.plates_taught, the converse of what the daemon's refresh reads): `plate` (the default),
the plate's look-alike SKUs' crops *taken on that plate*; `any_plate`, those SKUs' crops taken on any plate
(their solo facings too), which the issue's premise (free labels from the SKUs' other facings) needs.

**Refresh**: the node rebuilds its splitter after 10 changes (a stored crop, labelled or pending, and a review
answer each count) or 300 s after a smaller change (30 picks at 10 s); checked here every 10 picks, and, to
bound the benchmark's cost (a build's leave-one-out check grows with the square of the examples), only when
some twin plate's SKU has GROWTH (25 %) more usable examples than at the last build: at 24 examples per SKU
the splitter here lags the node's by up to 6 examples, at 100 by up to 25. The curve's galleries and the
onset of trust are taken from the labelled crops directly, not from these builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.gallery_world import PLATE_OF, PLATES, TWIN_OF, Example, Interaction, Outcome, run_fusion
from edge.config.gallery import ExamplesFrom
from edge.gallery.scope import plates_taught
from edge.vision.appearance_splitter import AppearanceSplitter, SplitterSettings

SCOPES: tuple[ExamplesFrom, ...] = ("plate", "any_plate")
LOOK_ALIKES: dict[str, tuple[str, ...]] = {plate: (a.sku, b.sku) for plate, (a, b) in PLATES}
CHUNK = 10           # picks between refresh checks
REFRESH_CHANGES = 10  # [gallery] refresh_examples
REFRESH_PICKS = 30    # [gallery] refresh_s 300 s at a pick every 10 s
GROWTH = 0.25         # a rebuild needs a twin plate's SKU this much past its usable examples at the last build


@dataclass(frozen=True, slots=True)
class Labelled:
    """One crop in the gallery: its look (`example.sku` is the label), where it was taken, from which source,
    which of the day's events (1-based) gave it, and the SKU really picked."""

    example: Example
    plate: str
    source: str  # "auto" or "review"
    event: int
    truth: str


Gallery = dict[str, list[Labelled]]  # label -> crops, oldest first


@dataclass(frozen=True, slots=True)
class Day:
    scope: ExamplesFrom
    gallery: Gallery
    outcomes: tuple[Outcome, ...]
    wrong: int          # labels admitted that are not the SKU picked
    refused: int        # auto labels the trusted splitter refused at admission
    refused_right: int  # of them, right ones
    refreshes: int


def day_label(outcome: Outcome) -> tuple[str | None, str]:
    """(label, source) the node gives this event's crop: the reviewer's answer, which is the truth, when fusion
    flagged the event; its own SKU when the node's auto rule took it (`Outcome.auto`); else (None, "")."""
    if outcome.review:
        return outcome.sku, "review"
    if outcome.auto is not None:
        return outcome.auto, "auto"
    return None, ""


def usable(gallery: Gallery, sku: str, plate: str, scope: ExamplesFrom) -> list[Labelled]:
    """The crops of `sku` the splitter of `plate` is built from, oldest first: those the node's selection says
    teach it (edge.gallery.scope.plates_taught)."""
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r}: one of {', '.join(SCOPES)}")
    return [c for c in gallery.get(sku, []) if plate in plates_taught(sku, c.plate, LOOK_ALIKES, scope)]


def splitter_of(gallery: Gallery, n: int | None, scope: ExamplesFrom, settings: SplitterSettings) -> AppearanceSplitter:
    """Every twin plate's splitter from the first `n` (None: all) usable crops of each of its SKUs."""
    by_plate: dict[str, dict[str, list[np.ndarray]]] = {}
    for plate, pair in PLATES:
        by_plate[plate] = {item.sku: [c.example.descriptor for c in usable(gallery, item.sku, plate, scope)[:n]]
                           for item in pair}
    return AppearanceSplitter(by_plate, settings)


def _twin_counts(gallery: Gallery, scope: ExamplesFrom) -> tuple[int, ...]:
    return tuple(len(usable(gallery, item.sku, plate, scope)) for plate, pair in PLATES for item in pair)


def simulate_day(order: Sequence[Interaction], scope: ExamplesFrom, seed: int, poison: float = 0.0,
                 guard: bool = True) -> Day:
    """The day: picks in chunks of CHUNK through fusion with the splitter of the gallery so far, rebuilt by the
    node's refresh rule; each crop labelled by `day_label`, replaced by the twin with probability `poison`.
    With `guard`, an `auto` crop that a trusted splitter it will teach confidently calls another SKU is refused
    (GalleryFeed.admit -> AppearanceFeed.admits: every plate `plates_taught` names; reviewer labels are never
    filtered) and the splitter cleans and trims its gallery; without, neither."""
    settings = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
    rng = np.random.default_rng([seed, 0xBAD])
    gallery: Gallery = {sku: [] for sku in PLATE_OF}
    splitter = splitter_of(gallery, None, scope, settings)
    built = _twin_counts(gallery, scope)
    outcomes: list[Outcome] = []
    wrong = refused = refused_right = refreshes = changes = 0
    first_change: int | None = None
    for start in range(0, len(order), CHUNK):
        due = changes >= REFRESH_CHANGES or (first_change is not None and start - first_change >= REFRESH_PICKS)
        if due:
            counts = _twin_counts(gallery, scope)
            if any(now - then >= max(1.0, GROWTH * then) for now, then in zip(counts, built, strict=True)):
                splitter, built = splitter_of(gallery, None, scope, settings), counts
                refreshes += 1
                changes, first_change = 0, None
        chunk = order[start:start + CHUNK]
        results = run_fusion(chunk, splitter, seed + start, seed * 7 + start)
        outcomes += results
        for n, (interaction, outcome) in enumerate(zip(chunk, results, strict=True), start + 1):
            label, source = day_label(outcome)
            if label is None:
                continue
            changes += 2 if source == "review" else 1  # a pending crop stored, then the answer
            first_change = start if first_change is None else first_change
            if rng.random() < poison:
                label = TWIN_OF[label]
            judges = [splitter.plates[p] for p in plates_taught(label, interaction.where, LOOK_ALIKES, scope)
                      if splitter.plates[p].report.trusted]
            if guard and source == "auto" and not all(j.admits(label, interaction.example.descriptor)
                                                      for j in judges):
                refused += 1
                refused_right += label == interaction.sku
                continue
            wrong += label != interaction.sku
            gallery[label].append(Labelled(replace(interaction.example, sku=label), interaction.where, source, n,
                                           interaction.sku))
    return Day(scope, gallery, tuple(outcomes), wrong, refused, refused_right, refreshes)
