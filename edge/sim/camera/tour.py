"""A scenario that shows every labelled SKU to the camera equally often: the rendered-camera measurement.

Four plates, the SKUs dealt round-robin onto them (mixed plates), then for each SKU in turn a pick
and a put-back, `per_sku` times in all, 6-8 s apart so that no two hands overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.sim.catalogue import STORE
from edge.sim.scenario import Action, ActionKind, Item, Scenario, Slot

PLATES = ("p1", "p2", "p3", "p4")


def labelled_skus(items: Sequence[Item] = STORE) -> list[str]:
    return [item.sku for item in items if item.labels]


def label_tour(seed: int, skus: Sequence[str], per_sku: int, items: Sequence[Item] = STORE) -> Scenario:
    if not skus or per_sku < 1:
        raise ValueError("the tour needs at least one SKU and per_sku >= 1")
    known = {item.sku: item for item in items}
    missing = [sku for sku in skus if sku not in known]
    if missing:
        raise ValueError(f"unknown SKUs {missing}; the catalogue has {sorted(known)}")
    rng = np.random.default_rng([seed, 0x70])
    home = {sku: PLATES[index % len(PLATES)] for index, sku in enumerate(skus)}
    slots = [Slot(plate=home[sku], sku=sku, stock=3, tray_g=400.0) for sku in skus]
    actions = []
    t = 2.0
    for round_ in range(per_sku):
        for sku in skus:
            kind: ActionKind = "pick" if round_ % 2 == 0 else "put"
            actions.append(Action(at=round(t, 3), kind=kind, plate=home[sku], sku=sku))
            t += float(rng.uniform(6.0, 8.0))
    return Scenario(
        name=f"label-tour-{seed}",
        seed=seed,
        items=[known[s] for s in skus],
        planogram=slots,
        actions=actions,
        duration_s=t + 5.0,
    )
