"""Published comparators, driven exactly like FusionStage so a benchmark runs all on the same weight events.

- `aim3s`: AIM3S (weight x layout x vision), p = 0.6 * norm(P_weight * P_layout) + 0.4 * P_vision, argmax.
- `autocheckout2020`: the 2020 AutoCheckout winner, 0.8 * layout + 0.2 * weight (Gaussian, sigma 10 g),
  count = round(delta / unit).
- `weight_planogram`: our fused model with the camera ignored.
- `vision_only`: the SKU carrying the best-scored label, count = round(delta / unit).

None of the published ones abstains: `review_required` is always false and `confidence` is their own score.
Each scores the whole weight event on the plate that changed most (they have no notion of an item across
plates or of two hands at once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from edge.fusion.factors import seen_labels
from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState
from edge.fusion.stage import FusionStage
from edge.model import (
    ItemAction,
    ItemEvent,
    ItemLine,
    PlateChange,
    PlateEvidence,
    PlateTrace,
    WeightEvent,
    WeightEventRef,
)
from edge.planogram import Planogram

AUTOCHECKOUT_SIGMA_G = 10.0
LAYOUT_OFF_PLATE = 0.05  # AIM3S: a product away from its planned plate keeps a small layout probability


class _Comparator:
    """One answer per weight event, at once; nothing held."""

    def __init__(self, plate_names: Sequence[str], planogram: Planogram | None,
                 settings: FusionSettings | None = None, maintenance: bool = False) -> None:
        self.plate_names = list(plate_names)
        self.settings = settings or FusionSettings()
        self.maintenance = maintenance
        self.state = self._new_state(planogram)

    def set_planogram(self, planogram: Planogram) -> None:
        self.state = self._new_state(planogram)

    def _new_state(self, planogram: Planogram | None) -> ShelfState:
        return ShelfState.from_planogram(planogram, self.plate_names, self.settings.min_unit_sigma_g,
                                         self.settings.learn_min_events)

    def set_maintenance(self, on: bool) -> None:
        self.maintenance = on

    def poll(self, now: float) -> list[ItemEvent]:
        return []

    def flush(self) -> list[ItemEvent]:
        return []

    def on_weight_event(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None,
                        camera_ok: bool | None, now: float, ref: WeightEventRef | None = None,
                        trace: Sequence[PlateTrace] | None = None) -> list[ItemEvent]:
        deltas = event.plate_deltas or {"?": event.delta_g}
        plate = max(deltas, key=lambda p: (abs(deltas[p]), p))
        total = sum(deltas.values())
        state = self.state
        if not state.skus:
            return [self._item(event, ref, "unknown", (), 0.0)]
        vocabulary = state.vocabulary
        seen = seen_labels(evidence, deltas, vocabulary, self.settings.vision_min_score) if camera_ok else {}
        counts = np.maximum(np.rint(abs(total) / state.unit_mean), 1.0)
        scores = self.scores(plate, abs(total), event.sigma_g, counts, seen)
        if scores is None or not np.isfinite(scores).any() or scores.max() <= 0:
            return [self._item(event, ref, "unknown", (), 0.0)]
        k = int(np.argmax(scores))
        action: ItemAction = "pick" if total < 0 else ("restock" if self.maintenance else "put")
        confidence = float(scores[k] / scores.sum())
        return [self._item(event, ref, action, (ItemLine(state.skus[k], int(counts[k]), plate),), confidence)]

    def scores(self, plate: str, grams: float, sigma_g: float, counts: np.ndarray,
               seen: Mapping[str, float]) -> np.ndarray | None:
        raise NotImplementedError

    def layout(self, plate: str, off_plate: float) -> np.ndarray:
        living = self.state.contents.get(plate, [])
        prior = np.full(len(self.state.skus), off_plate)
        for k in living:
            prior[k] = 1.0
        return prior / prior.sum()

    def vision(self, seen: Mapping[str, float]) -> np.ndarray:
        """Per SKU: the best score of its labels, normalised; uniform when nothing was seen."""
        n = len(self.state.skus)
        if not seen:
            return np.full(n, 1.0 / n)
        score = np.array([max((seen.get(label, 0.0) for label in labels), default=0.0)
                          for labels in self.state.labels])
        return score / score.sum() if score.sum() > 0 else np.full(n, 1.0 / n)

    def _item(self, event: WeightEvent, ref: WeightEventRef | None, action: ItemAction,
              lines: tuple[ItemLine, ...], confidence: float) -> ItemEvent:
        sigma = event.sigma_g / math.sqrt(max(len(event.plate_deltas), 1))
        return ItemEvent(
            t_start=event.t_start, t_end=event.t_end, action=action, lines=lines, confidence=round(confidence, 6),
            misplaced=False, review_required=False, review_reasons=(), alternatives=(),
            weight_events=(ref or WeightEventRef(),),
            changes=tuple(PlateChange(p, d, sigma) for p, d in sorted(event.plate_deltas.items())),
            residual_g=0.0, quality=event.quality, flags=event.flags)


class Aim3s(_Comparator):
    def scores(self, plate: str, grams: float, sigma_g: float, counts: np.ndarray,
               seen: Mapping[str, float]) -> np.ndarray | None:
        state = self.state
        sd = np.sqrt(sigma_g ** 2 + counts * np.maximum(state.catalogue_sigma, self.settings.min_unit_sigma_g) ** 2)
        weight = np.exp(-0.5 * ((grams - counts * state.unit_mean) / sd) ** 2) / sd
        joint = weight * self.layout(plate, LAYOUT_OFF_PLATE)
        if joint.sum() <= 0:
            return None
        return 0.6 * joint / joint.sum() + 0.4 * self.vision(seen)


class AutoCheckout2020(_Comparator):
    def scores(self, plate: str, grams: float, sigma_g: float, counts: np.ndarray,
               seen: Mapping[str, float]) -> np.ndarray | None:
        weight = np.exp(-0.5 * ((grams - counts * self.state.unit_mean) / AUTOCHECKOUT_SIGMA_G) ** 2)
        return 0.8 * self.layout(plate, 0.0) + 0.2 * weight


class VisionOnly(_Comparator):
    def scores(self, plate: str, grams: float, sigma_g: float, counts: np.ndarray,
               seen: Mapping[str, float]) -> np.ndarray | None:
        if not seen:
            return None
        return self.vision(seen) * (1.0 + 1e-3 * self.layout(plate, 0.0))  # a shared label: prefer the plate's


class WeightPlanogram(FusionStage):
    """The fused model without the camera (its own review logic stays)."""

    def on_weight_event(self, event: WeightEvent, evidence: Mapping[str, PlateEvidence] | None,
                        camera_ok: bool | None, now: float, ref: WeightEventRef | None = None,
                        trace: Sequence[PlateTrace] | None = None) -> list[ItemEvent]:
        return super().on_weight_event(event, None, True, now, ref, trace)


BASELINES: dict[str, type[_Comparator] | type[FusionStage]] = {
    "aim3s": Aim3s,
    "autocheckout2020": AutoCheckout2020,
    "weight_planogram": WeightPlanogram,
    "vision_only": VisionOnly,
}
