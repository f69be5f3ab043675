"""Planogram lint: weight twins one weight change cannot tell apart, and whether the camera can split them.

Two SKUs on one plate are twins at counts (n1, n2) when |n1*w1 - n2*w2| < 3 * sqrt(n1*s1^2 + n2*s2^2 +
noise^2) (a 1 L bottle against two 0.5 L bottles). The camera can split them only when both carry labels
and share none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edge.planogram import CatalogueItem, Planogram

TWIN_SIGMAS = 3.0


@dataclass(frozen=True, slots=True)
class WeightTwin:
    plate: str
    first: str
    second: str
    counts: tuple[tuple[int, int], ...]   # (n1, n2) pairs that weigh alike
    closest_g: float                      # the smallest |n1*w1 - n2*w2| among them
    camera_can_split: bool
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"plate": self.plate, "skus": [self.first, self.second], "counts": [list(c) for c in self.counts],
                "closest_g": round(self.closest_g, 2), "camera_can_split": self.camera_can_split, "why": self.why}


def weight_twins(planogram: Planogram, noise_sigma_g: float = 1.0, max_count: int = 6) -> list[WeightTwin]:
    found: list[WeightTwin] = []
    for plate, slots in sorted(planogram.plates.items()):
        items = [planogram.item(slot.sku) for slot in slots]
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                counts, closest = _alike(a, b, noise_sigma_g, max_count)
                if counts:
                    split, why = _camera_split(a, b)
                    found.append(WeightTwin(plate, a.sku, b.sku, tuple(counts), closest, split, why))
    return found


def _alike(a: CatalogueItem, b: CatalogueItem, noise_sigma_g: float,
           max_count: int) -> tuple[list[tuple[int, int]], float]:
    counts: list[tuple[int, int]] = []
    closest = math.inf
    for n1 in range(1, max_count + 1):
        for n2 in range(1, max_count + 1):
            gap = abs(n1 * a.unit_weight_g - n2 * b.unit_weight_g)
            sd = math.sqrt(n1 * a.unit_sigma_g ** 2 + n2 * b.unit_sigma_g ** 2 + noise_sigma_g ** 2)
            if gap < TWIN_SIGMAS * sd:
                counts.append((n1, n2))
                closest = min(closest, gap)
    return counts, closest


def _camera_split(a: CatalogueItem, b: CatalogueItem) -> tuple[bool, str]:
    if not a.labels or not b.labels:
        unlabelled = [item.sku for item in (a, b) if not item.labels]
        return False, f"{' and '.join(unlabelled)} {'has' if len(unlabelled) == 1 else 'have'} no detector label"
    shared = sorted(set(a.labels) & set(b.labels))
    if shared:
        return False, f"same label {', '.join(shared)}"
    return True, f"labels differ ({', '.join(a.labels)} / {', '.join(b.labels)})"
