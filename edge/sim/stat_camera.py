"""The statistical camera: the evidence the vision service would give, drawn from measured rates.

For each true interaction it decides once (seeded by the scenario seed and the record id, so the
answer does not depend on who asks first or how often) what the camera saw on the touched plates:
the item's label with a best and a mean score (or a miss), confusions with other labels, the hand,
sometimes a spill-over onto a neighbouring plate; and for each label the share of the window's frames it
was seen in, drawn around its rate (a label seen in most windows shows in many of their frames, a rare
confusion in a frame or two). Independently, every plate shows rare false
detections (seeded per plate and 10 s bucket). Camera outages (truth kind "camera") make
`evidence()` return None: the camera is unavailable for that window.

Rates: per photo family, measured from the real detector on the measure half of the photos in
../shared/images (edge/sim/camera_rates.json, made by `python -m bench.camera_rates`);
the assumptions without a measurement are `CameraRates` fields (docs/simulator.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edge.model import PlateEvidence, WeightEvent
from edge.sim.catalogue import STORE
from edge.sim.scenario import Item
from edge.sim.truth import TruthRecord, read_truth

SHOPPER = frozenset({"pick", "put", "restock"})


@dataclass(frozen=True, slots=True)
class LookRates:
    label: str | None  # what the detector should say for this family
    hit: float  # P(the label is detected in the event window)
    best_scores: tuple[float, ...]  # empirical best scores when hit
    confusions: dict[str, float]  # other label -> P(shown in the window)


@dataclass(frozen=True, slots=True)
class CameraRates:
    looks: dict[str, LookRates]
    no_look: LookRates  # a SKU without a look (a pack COCO has no class for)
    hand_seen: float = 0.9  # P(hand box over the plate while a hand handles it): assumed
    false_hand_per_s: float = 0.002  # hand boxes over an untouched plate: assumed
    spill: float = 0.08  # P(the item's detections also land on a neighbouring plate): assumed
    false_per_s: float = 0.003  # false detections per plate and second: assumed
    fps: float = 10.0  # frames analysed per second of window
    mean_share: tuple[float, float] = (0.75, 0.95)  # mean score = best x U(range)
    frame_share: tuple[float, float] = (0.5, 1.3)  # share of the frames a label is seen in = rate x U(range): assumed

    def for_item(self, item: Item) -> LookRates:
        look = self.looks.get(item.look or "")
        if look is None:
            return self.no_look
        if look.label is not None and look.label not in item.labels and item.labels:
            # the catalogue names another label than the family's: the family's label is a confusion
            return LookRates(item.labels[0], 0.0, look.best_scores, {**look.confusions, look.label: look.hit})
        return look


@lru_cache(maxsize=1)
def measured_rates() -> CameraRates:
    raw = json.loads(resources.files("edge.sim").joinpath("camera_rates.json").read_text(encoding="utf-8"))
    looks = {
        name: LookRates(entry["label"], entry["hit"], tuple(entry["best_scores"]), dict(entry["confusions"]))
        for name, entry in raw["families"].items()
    }
    no = raw["no_look"]
    return CameraRates(looks, LookRates(None, 0.0, tuple(no["best_scores"]), dict(no["confusions"])))


@dataclass(frozen=True, slots=True)
class Sighting:
    """What the camera saw of one interaction on one plate."""

    t0: float
    t1: float
    plate: str
    labels: dict[str, tuple[float, float]]
    hand: bool
    shares: dict[str, float] = field(default_factory=dict)  # label -> share of the window's frames it shows in


@dataclass
class StatisticalCamera:
    truth: Sequence[TruthRecord]  # unix times, as the weight events
    items: Sequence[Item]
    plates: Sequence[str]
    seed: int
    rates: CameraRates = field(default_factory=measured_rates)
    sightings: dict[str, list[Sighting]] = field(init=False)
    outages: list[tuple[float, float]] = field(init=False)

    def __post_init__(self) -> None:
        catalogue = {item.sku: item for item in self.items}
        self.sightings = {plate: [] for plate in self.plates}
        self.outages = [(r.t_start, r.t_settled) for r in self.truth if r.kind == "camera"]
        for record in self.truth:
            if record.kind in SHOPPER and record.sku is not None:
                for sighting in self._see(record, catalogue[record.sku]):
                    self.sightings[sighting.plate].append(sighting)

    def _see(self, record: TruthRecord, item: Item) -> list[Sighting]:
        rng = np.random.default_rng([self.seed, 0xCA3, record.id])
        look = self.rates.for_item(item)
        labels: dict[str, tuple[float, float]] = {}
        if look.label is not None and rng.random() < look.hit:
            labels[look.label] = self._scores(rng, look.best_scores)
        for other, rate in sorted(look.confusions.items()):
            if rng.random() < rate:
                labels[other] = self._scores(rng, look.best_scores)
        hand = bool(rng.random() < self.rates.hand_seen)
        plates = list(record.plates)
        shares = self._shares(record, look, labels)
        seen = [Sighting(record.t_start, record.t_settled, p, labels, hand, shares) for p in plates]
        if labels and rng.random() < self.rates.spill:
            index = self.plates.index(plates[0])
            neighbours = [self.plates[i] for i in (index - 1, index + 1) if 0 <= i < len(self.plates)]
            spill = neighbours[int(rng.integers(len(neighbours)))] if neighbours else None
            if spill is not None and spill not in plates:
                weaker = {name: (round(b * 0.9, 4), round(m * 0.9, 4)) for name, (b, m) in labels.items()}
                seen.append(Sighting(record.t_start, record.t_settled, spill, weaker, False, shares))
        return seen

    def _shares(self, record: TruthRecord, look: LookRates, labels: dict[str, tuple[float, float]]) -> dict[str, float]:
        """Per seen label, the share of the frames it shows in: its rate x U(frame_share), at most 1. Its own
        stream (seed, record id), so the labels, scores, hands and spills drawn before are unchanged."""
        rng = np.random.default_rng([self.seed, 0xF4A, record.id])
        shares = {}
        for name in labels:
            rate = look.hit if name == look.label else look.confusions.get(name, 0.0)
            shares[name] = min(1.0, rate * float(rng.uniform(*self.rates.frame_share)))
        return shares

    def _scores(self, rng: np.random.Generator, best_scores: tuple[float, ...]) -> tuple[float, float]:
        if not best_scores:
            best = float(rng.uniform(0.5, 0.65))
        else:
            best = float(np.clip(best_scores[int(rng.integers(len(best_scores)))] + rng.normal(0.0, 0.02), 0.5, 0.99))
        mean = best * float(rng.uniform(*self.rates.mean_share))
        return round(best, 4), round(max(mean, 0.5), 4)

    def available(self, t0: float, t1: float) -> bool:
        return not any(start <= t1 and end >= t0 for start, end in self.outages)

    def evidence(self, t0: float, t1: float) -> dict[str, PlateEvidence] | None:
        """Per plate, what the vision service would report for [t0, t1]; None while the camera is down."""
        if not self.available(t0, t1):
            return None
        frames = max(1, round((t1 - t0) * self.rates.fps))
        result = {}
        for index, plate in enumerate(self.plates):
            labels: dict[str, list[tuple[float, float]]] = {}
            counts: dict[str, int] = {}
            hand = False
            for sighting in self.sightings[plate]:
                if sighting.t0 <= t1 and sighting.t1 >= t0:
                    hand |= sighting.hand
                    overlap = max(1, round((min(t1, sighting.t1) - max(t0, sighting.t0)) * self.rates.fps))
                    for name, scores in sighting.labels.items():
                        labels.setdefault(name, []).append(scores)
                        seen_in = max(1, round(sighting.shares.get(name, 0.0) * overlap))
                        counts[name] = counts.get(name, 0) + seen_in
            for name, scores, false_hand in self._false(index, t0, t1):
                hand |= false_hand
                if name:
                    labels.setdefault(name, []).append(scores)
                    counts[name] = counts.get(name, 0) + 1  # a false detection: one frame
            merged = {
                name: (max(b for b, _ in s), round(sum(m for _, m in s) / len(s), 4))
                for name, s in sorted(labels.items())
            }
            seen_in_frames = {name: min(frames, counts[name]) for name in merged}
            result[plate] = PlateEvidence(plate=plate, labels=merged, frames=frames, hand_present=hand,
                                          label_frames=seen_in_frames)
        return result

    def event_evidence(self, event: WeightEvent, margin_s: float) -> dict[str, PlateEvidence] | None:
        """What the camera gives for one weight event: `evidence()` over its change, `margin_s` before it began
        and after it settled (the node's EVIDENCE_MARGIN_S). The one draw the fusion benchmark
        (bench/fusion_run.py) and `replay --stat-camera` both make."""
        return self.evidence(event.t_start - margin_s, event.t_end + margin_s)

    def _false(self, plate: int, t0: float, t1: float) -> list[tuple[str, tuple[float, float], bool]]:
        """False detections and hand boxes on one plate in [t0, t1], fixed per 10 s bucket."""
        found = []
        pool = sorted({name for look in self.rates.looks.values() for name in look.confusions} | {"bottle", "cup"})
        for bucket in range(max(0, int(t0 // 10)), max(0, int(t1 // 10) + 1)):
            rng = np.random.default_rng([self.seed, 0xFA1, plate, bucket])
            for kind, rate in (("label", self.rates.false_per_s), ("hand", self.rates.false_hand_per_s)):
                for _ in range(int(rng.poisson(rate * 10.0))):
                    at = bucket * 10.0 + float(rng.uniform(0.0, 10.0))
                    name = pool[int(rng.integers(len(pool)))]
                    score = round(float(rng.uniform(0.5, 0.62)), 4)
                    if t0 <= at <= t1:
                        found.append((name if kind == "label" else "", (score, score), kind == "hand"))
        return found


def camera_for_replay(
    truth_path: str | Path, catalogue: Iterable[Any], plates: Sequence[str], seed: int
) -> StatisticalCamera:
    """The statistical camera of a simulated capture, for `replay`: its truth file, the planogram's
    catalogue (entries with `sku`, `unit_weight_g`, `labels`) and the seed from the capture header
    (`source: sim seed=N`). A SKU of the simulator's store catalogue keeps its look; others get none."""
    return StatisticalCamera(list(read_truth(truth_path)), catalogue_items(catalogue), plates, seed)


def catalogue_items(catalogue: Iterable[Any]) -> list[Item]:
    """The simulator's items for a planogram's catalogue (entries with `sku`, `unit_weight_g`, `labels`): a SKU
    of the store catalogue (edge.sim.catalogue.STORE) keeps its look, others get none."""
    store = {item.sku: item for item in STORE}
    return [
        store.get(entry.sku) or Item(sku=entry.sku, unit_g=float(entry.unit_weight_g), labels=list(entry.labels))
        for entry in catalogue
    ]
