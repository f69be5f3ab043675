"""A small shelf with known answers: twins by weight with and without different labels, a count twin
(1 L against two 0.5 L), a many-unit plate and a SKU that lives on no plate (for misplaced put-backs)."""

from __future__ import annotations

import json
from typing import Any

from edge.fusion import FusionSettings, FusionStage
from edge.model import ItemEvent, PlateEvidence, WeightEvent, WeightEventRef
from edge.planogram import Planogram, parse_planogram

PLATES = ["p1", "p2", "p3", "p4", "p5"]
T0 = 1_790_000_000.0


def catalogue_item(sku: str, grams: float, sigma: float, labels: list[str]) -> dict[str, Any]:
    return {"sku": sku, "name": sku.lower(), "unit_weight_g": grams, "unit_sigma_g": sigma, "labels": labels}


DOCUMENT: dict[str, Any] = {
    "format": 2, "id": "pg-test", "version": 1,
    "catalogue": [
        catalogue_item("COLA-1L", 1040.0, 6.0, ["bottle"]),
        catalogue_item("COLA-05", 520.0, 4.0, ["bottle"]),
        catalogue_item("APPLE-1KG", 1028.0, 8.0, ["apple"]),
        catalogue_item("CARROT-1KG", 1035.0, 8.0, ["carrot"]),
        catalogue_item("GUM", 32.0, 0.6, []),
        catalogue_item("CHIPS", 150.0, 2.0, []),
        catalogue_item("JUICE", 1000.0, 5.0, ["carton"]),
    ],
    "plates": {
        "p1": [{"sku": "COLA-1L", "stock": 6}, {"sku": "COLA-05", "stock": 6}],
        "p2": [{"sku": "APPLE-1KG", "stock": 4}, {"sku": "CARROT-1KG", "stock": 4}],
        "p3": [{"sku": "GUM", "stock": 40}],
        "p4": [{"sku": "JUICE", "stock": 8}],
        "p5": [],
    },
}


def planogram(document: dict[str, Any] | None = None) -> Planogram:
    return parse_planogram(json.dumps(document or DOCUMENT), PLATES)


def stage(settings: FusionSettings | None = None, document: dict[str, Any] | None = None) -> FusionStage:
    return FusionStage(PLATES, planogram(document), settings or FusionSettings())


def weight_event(deltas: dict[str, float], t: float = 0.0, sigma: float = 0.5, quality: str = "settled",
                 flags: tuple[str, ...] = ()) -> WeightEvent:
    return WeightEvent(T0 + t, T0 + t + 1.0, deltas, sum(deltas.values()), sigma, quality, flags)  # type: ignore[arg-type]


def seen(plate: str, **labels: float) -> dict[str, PlateEvidence]:
    return {plate: PlateEvidence(plate, {label: (best, best * 0.9) for label, best in labels.items()}, 20, True,
                                 f"snap-{plate}")}


def one(fusion: FusionStage, deltas: dict[str, float], evidence: dict[str, PlateEvidence] | None = None,
        camera_ok: bool | None = True, t: float = 0.0, **event: Any) -> ItemEvent:
    """Feed one weight event and everything it releases (flush); exactly one item event must come out."""
    items = fusion.on_weight_event(weight_event(deltas, t, **event), evidence, camera_ok, T0 + t + 1.1,
                                   WeightEventRef(f"ev-{t}", int(t) + 1))
    items += fusion.flush()
    assert len(items) == 1, items
    return items[0]


def skus(item: ItemEvent) -> list[tuple[str, int]]:
    return [(line.sku, line.count) for line in item.lines]
