"""Measure the statistical camera's rates from the real detector's output on product photos.

The measurement itself (running the model) lives in `bench/camera_rates.py` (the benchmarks), the
only place that imports the detector; this module is pure: it splits the photos into a
*measure* half and a *held-out* half, and turns per-photo detections into per-family rates.

Split rule (fixed, by file name): within each photo family, sorted by name, even positions
(1st, 3rd, ...) are the measure half, odd positions the held-out half. Rates come only from the
measure half; the held-out half is kept for the rendered-frame benchmark of issue 13 and for a
consistency check printed next to the rates.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Photo family (what a SKU looks like) -> the label the detector should give it (None: COCO has
# no class for it, e.g. a carton). Families come from ../shared/images/ folder or file names.
FAMILY_LABEL: dict[str, str | None] = {
    "Banana": "banana", "Orange": "orange", "Satsumas": "orange", "Lemon": "orange", "Carrots": "carrot",
    "Granny-Smith": "apple", "Pink-Lady": "apple", "Royal-Gala": "apple", "Red-Delicious": "apple",
    "Golden-Delicious": "apple", "Anjou": "apple", "Conference": "apple",
    "Bravo-Apple-Juice": "bottle", "Bravo-Orange-Juice": "bottle", "God-Morgon-Orange-Juice": "bottle",
    "Tropicana-Apple-Juice": "bottle", "Arla-Medium-Fat-Milk": "bottle", "Arla-Standard-Milk": "bottle",
    "Garant-Ecological-Medium-Fat-Milk": "bottle", "Oatly-Oat-Milk": "bottle", "Alpro-Fresh-Soy-Milk": "bottle",
    "Arla-Natural-Yoghurt": "bottle", "Yoggi-Strawberry-Yoghurt": "bottle", "Arla-Sour-Milk": "bottle",
    "Valio-Vanilla-Yoghurt": "bottle", "Tropicana-Juice-Smooth": "bottle", "God-Morgon-Apple-Juice": "bottle",
    "Alpro-Shelf-Soy-Milk": "bottle",
    "water_bottle": "bottle", "milk_bottle": "bottle", "can": "cup", "carton": "bottle",
}  # fmt: skip
HAND_LABEL = "person"


@dataclass(frozen=True, slots=True)
class PhotoResult:
    family: str
    file: str
    detections: tuple[tuple[str, float], ...]  # (label, score), every detection >= the run's threshold


@dataclass(frozen=True, slots=True)
class FamilyRates:
    family: str
    label: str | None
    photos: int
    hit: float  # share of photos where the expected label scored >= threshold
    best_scores: tuple[float, ...]  # the expected label's best score on each hit photo (sorted)
    confusions: dict[str, float]  # other label -> share of photos showing it (>= threshold), hand excluded
    hand: float  # share of photos with a 'person' box (the hand holding the item)

    def to_json(self) -> dict[str, object]:
        return {
            "family": self.family, "label": self.label, "photos": self.photos, "hit": round(self.hit, 3),
            "best_score_median": round(statistics.median(self.best_scores), 3) if self.best_scores else None,
            "best_scores": [round(s, 3) for s in self.best_scores],
            "confusions": {k: round(v, 3) for k, v in sorted(self.confusions.items())}, "hand": round(self.hand, 3),
        }  # fmt: skip


def split_photos(files: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(family, file) pairs -> (measure half, held-out half), alternating by name within a family."""
    by_family: dict[str, list[str]] = defaultdict(list)
    for family, file in files:
        by_family[family].append(file)
    measure: list[tuple[str, str]] = []
    held_out: list[tuple[str, str]] = []
    for family in sorted(by_family):
        for index, file in enumerate(sorted(by_family[family])):
            (measure if index % 2 == 0 else held_out).append((family, file))
    return measure, held_out


def family_rates(results: Sequence[PhotoResult], threshold: float) -> dict[str, FamilyRates]:
    by_family: dict[str, list[PhotoResult]] = defaultdict(list)
    for result in results:
        by_family[result.family].append(result)
    rates = {}
    for family, photos in sorted(by_family.items()):
        label = FAMILY_LABEL.get(family)
        best: list[float] = []
        others: Counter[str] = Counter()
        hands = 0
        for photo in photos:
            kept = [(name, score) for name, score in photo.detections if score >= threshold]
            mine = [score for name, score in kept if name == label]
            if mine:
                best.append(max(mine))
            others.update({name for name, _ in kept if name not in (label, HAND_LABEL)})
            hands += any(name == HAND_LABEL for name, _ in kept)
        n = len(photos)
        rates[family] = FamilyRates(
            family, label, n, len(best) / n, tuple(sorted(best)), {k: v / n for k, v in others.items()}, hands / n
        )
    return rates


def family_of(path: str) -> str | None:
    """The photo family of a ../shared/images file name: the sku-photos folder, the Grocery Store
    fine class (`Fruit_Apple_Granny-Smith_001.jpg`), or the fridge object (`img_water_bottle_111.jpg`)."""
    parts = path.split("/")
    if len(parts) >= 2 and parts[-2] in FAMILY_LABEL:
        return parts[-2]
    name = parts[-1].rsplit(".", 1)[0]
    fields = name.split("_")
    if len(fields) >= 4 and fields[0] in {"Fruit", "Vegetables", "Packages"} and fields[2] in FAMILY_LABEL:
        return fields[2]
    stem = "_".join(f for f in fields if not f.isdigit() and f not in {"img", "small-150"})
    return stem if stem in FAMILY_LABEL else None


UNKNOWN_PACK_HIT = 0.2  # families the detector does not know (hit <= this) stand for label-less packs
SERVICE_THRESHOLD = 0.5  # the vision service's default detector.score_threshold


def derive_rates(photos: Sequence[dict[str, object]], threshold: float = SERVICE_THRESHOLD) -> dict[str, object]:
    """edge/sim/camera_rates.json from a measurement report's photos: per-family rates from the
    measure half only, and `no_look` (a pack COCO has no class for) pooled from the families the
    detector barely knows."""
    measured = [
        PhotoResult(str(p["family"]), str(p["file"]), tuple((str(a), float(b)) for a, b in p["detections"]))  # type: ignore[attr-defined]
        for p in photos
        if p["split"] == "measure"
    ]
    rates = family_rates(measured, threshold)
    unknown = [r for r in rates.values() if r.hit <= UNKNOWN_PACK_HIT and r.photos >= 5]
    total = sum(r.photos for r in unknown)
    pooled: dict[str, float] = {}
    for r in unknown:
        for name, share in r.confusions.items():
            pooled[name] = pooled.get(name, 0.0) + share * r.photos / total
    return {
        "source": "scripts/bench-fusion --measure-camera: measure half of ../shared/images, threshold "
        f"{threshold}",
        "families": {
            name: {"label": r.label, "photos": r.photos, "hit": round(r.hit, 4),
                   "best_scores": [round(s, 4) for s in r.best_scores],
                   "confusions": {k: round(v, 4) for k, v in sorted(r.confusions.items())}, "hand": round(r.hand, 4)}
            for name, r in rates.items()
        },
        "no_look": {"from": [r.family for r in unknown], "photos": total,
                    "best_scores": sorted(round(s, 4) for r in unknown for s in r.best_scores),
                    "confusions": {k: round(v, 4) for k, v in sorted(pooled.items())}},
    }  # fmt: skip
