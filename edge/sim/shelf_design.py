"""Shelves drawn from the store catalogue that contain the hard cases on purpose.

`design_shelf(seed, plates)` gives every shelf of at least four plates: one plate holding two
same-label twins (weight within 2 %, same detector labels: only the planogram and stock can
decide), one holding label-distinct weight twins (both labelled: the camera can decide when it
sees one), one with a count twin (one unit of A weighs as much as two of B, both labelled), one
mixed plate of SKUs that weight alone can split; further plates hold one SKU each. No SKU is a
weight twin of another plate's SKU (while the catalogue allows it). The catalogue also lists a
few SKUs from elsewhere in the store, which shoppers put back here by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from edge.sim.catalogue import STORE, count_twins, same_label_twins, weight_twins
from edge.sim.scenario import Item, Slot

ROLES = ("same_label", "label_distinct", "count_twin", "mixed")
FOREIGN_SKUS = 3  # catalogue SKUs with no place on this shelf


@dataclass(frozen=True, slots=True)
class ShelfDesign:
    items: list[Item]  # the catalogue the node gets: the shelf's SKUs + a few from elsewhere
    slots: list[Slot]
    roles: dict[str, str]  # plate -> role


def _pairs(kind: str) -> list[tuple[Item, Item]]:
    pairs = list(combinations(STORE, 2))
    if kind == "same_label":
        return [(a, b) for a, b in pairs if same_label_twins(a, b)]
    # the camera can split these only when both carry a label it knows (no detection = no information)
    labelled = [(a, b) for a, b in pairs if a.labels and b.labels]
    if kind == "label_distinct":
        return [(a, b) for a, b in labelled if weight_twins(a, b) and not same_label_twins(a, b)]
    if kind == "count_twin":
        return [(a, b) for a, b in labelled if count_twins(a, b, max_count=2) and not weight_twins(a, b)]
    # mixed: no weight or count twin between them for counts up to 3
    return [(a, b) for a, b in pairs if not weight_twins(a, b) and not count_twins(a, b, max_count=3)]


def _stock(item: Item, share: float) -> int:
    return int(np.clip(round(share * 7000.0 / item.unit_g), 4, 14))


def design_shelf(seed: int, plates: Sequence[str]) -> ShelfDesign:
    if len(plates) < len(ROLES):
        raise ValueError(f"a designed shelf needs at least {len(ROLES)} plates, got {len(plates)}")
    rng = np.random.default_rng([seed, 0x5E1F])
    roles = list(ROLES) + ["single"] * (len(plates) - len(ROLES))
    order = rng.permutation(len(plates))
    used: set[str] = set()
    slots: list[Slot] = []
    assigned: dict[str, str] = {}
    for index in order:
        plate, role = plates[int(index)], roles[int(index)]
        assigned[plate] = role
        if role == "single":
            free = [item for item in STORE if item.sku not in used and not _twin_of_used(item, used)]
            chosen = [free[int(rng.integers(len(free)))]]
        else:
            unused = [(a, b) for a, b in _pairs(role) if a.sku not in used and b.sku not in used]
            apart = [(a, b) for a, b in unused if not _twin_of_used(a, used) and not _twin_of_used(b, used)]
            candidates = apart or unused  # the catalogue is small: a cross-plate twin rather than no shelf
            if not candidates:
                raise ValueError(f"the store catalogue has no unused pair for a {role} plate")
            a, b = candidates[int(rng.integers(len(candidates)))]
            chosen = [a, b]
        for item in chosen:
            used.add(item.sku)
            slots.append(Slot(plate=plate, sku=item.sku, stock=_stock(item, 1.0 / len(chosen))))
    slots.sort(key=lambda slot: (list(plates).index(slot.plate), slot.sku))
    foreign = [item for item in STORE if item.sku not in used]
    extra = [foreign[int(i)] for i in rng.choice(len(foreign), size=min(FOREIGN_SKUS, len(foreign)), replace=False)]
    shelf_items = [item for item in STORE if item.sku in used]
    return ShelfDesign(shelf_items + sorted(extra, key=lambda i: i.sku), slots, assigned)


def _twin_of_used(item: Item, used: set[str]) -> bool:
    """No plate gets a twin of another plate's SKU (the twin cases stay where designed; misplaced
    put-backs and foreign SKUs still make some across plates)."""
    return any(weight_twins(item, other) for other in STORE if other.sku in used)
