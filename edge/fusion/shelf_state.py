"""What fusion knows about the shelf: the catalogue as arrays, what lives on each plate, stock, recent
picks and the unit spreads learned on site. Updated only by the stage, from its own item events."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from edge.planogram import Planogram


@dataclass(slots=True)
class LearnedSpread:
    """Running mean of (residual^2 - event variance) / count from confident single-SKU events."""

    events: int = 0
    unit_var: float = 0.0


@dataclass(slots=True)
class ShelfState:
    skus: list[str]
    index: dict[str, int]
    names: list[str]
    unit_mean: np.ndarray
    catalogue_sigma: np.ndarray
    labels: list[frozenset[str]]
    contents: dict[str, list[int]]                 # plate -> sku indices living there (planogram + confident puts)
    stock: dict[str, dict[int, int | None]]        # plate -> sku index -> units (None = not known)
    facings: dict[str, dict[int, int]]
    visitors: dict[str, dict[int, int]] = field(default_factory=dict)  # plate -> SKU there by a put-back -> group
    learned: dict[int, LearnedSpread] = field(default_factory=dict)
    recent_picks: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    min_unit_sigma_g: float = 0.3
    learn_min_events: int = 5
    vocabulary: frozenset[str] = frozenset()  # every label some SKU carries

    @classmethod
    def from_planogram(cls, planogram: Planogram | None, plate_names: list[str], min_unit_sigma_g: float,
                       learn_min_events: int, previous: ShelfState | None = None) -> ShelfState:
        items = [] if planogram is None else list(planogram.catalogue)
        state = cls(
            skus=[item.sku for item in items],
            index={item.sku: i for i, item in enumerate(items)},
            names=[item.name for item in items],
            unit_mean=np.array([item.unit_weight_g for item in items], dtype=float),
            catalogue_sigma=np.array([item.unit_sigma_g for item in items], dtype=float),
            labels=[frozenset(item.labels) for item in items],
            contents={plate: [] for plate in plate_names},
            stock={plate: {} for plate in plate_names},
            facings={plate: {} for plate in plate_names},
            min_unit_sigma_g=min_unit_sigma_g,
            learn_min_events=learn_min_events,
            vocabulary=frozenset(label for item in items for label in item.labels),
        )
        if planogram is not None:
            for plate, slots in planogram.plates.items():
                for slot in slots:
                    k = state.index[slot.sku]
                    state.contents.setdefault(plate, []).append(k)
                    state.stock.setdefault(plate, {})[k] = slot.stock
                    if slot.facings is not None:
                        state.facings.setdefault(plate, {})[k] = slot.facings
        if previous is not None:  # keep what was learned about SKUs whose catalogue weight did not change
            for k_old, spread in previous.learned.items():
                k_new = state.index.get(previous.skus[k_old])
                if k_new is not None and state.unit_mean[k_new] == previous.unit_mean[k_old]:
                    state.learned[k_new] = spread
        return state

    def unit_var(self) -> np.ndarray:
        """Per-SKU unit variance: the catalogue's until enough confident events, then the learned one; floored."""
        var = np.maximum(self.catalogue_sigma, self.min_unit_sigma_g) ** 2
        for k, spread in self.learned.items():
            if spread.events >= self.learn_min_events:
                var[k] = max(spread.unit_var, self.min_unit_sigma_g ** 2)
        return var

    def pick_weights(self, plate: str) -> dict[int, float]:
        """Relative chance that a pick from `plate` takes each SKU there: stock, else facings, else equal."""
        weights: dict[int, float] = {}
        for k in self.contents.get(plate, []):
            units = self.stock.get(plate, {}).get(k)
            weights[k] = float(units) if units is not None else float(self.facings.get(plate, {}).get(k, 1))
        return weights

    def recent_counts(self, now: float, window_s: float) -> dict[int, int]:
        counts: dict[int, int] = {}
        for t, k in self.recent_picks:
            if now - t <= window_s:
                counts[k] = counts.get(k, 0) + 1
        return counts

    def learn(self, k: int, residual_g: float, event_var: float, count: int) -> None:
        spread = self.learned.setdefault(k, LearnedSpread())
        sample = max((residual_g ** 2 - event_var) / count, 0.0)
        spread.events += 1
        rate = max(1.0 / spread.events, 0.05)  # running mean, then an exponential one (the site may drift)
        spread.unit_var += rate * (sample - spread.unit_var)

    def move_stock(self, plate: str, k: int, units: int, now: float, *, pick: bool) -> None:
        plate_stock = self.stock.setdefault(plate, {})
        current = plate_stock.get(k)
        if current is not None:
            plate_stock[k] = max(current + (-units if pick else units), 0)
        if pick and self.is_visitor(plate, k) and not plate_stock.get(k):
            self._leave(plate, k)  # the misplaced unit is gone again: it must not linger as stock
        if pick:
            for _ in range(min(units, 8)):
                self.recent_picks.append((now, k))
        else:
            self._forget_returned(k, units)

    def add_to_plate(self, plate: str, k: int, units: int | None, group: int | None = None) -> None:
        """A put-back of a foreign SKU: it now lives here, so picking it again is recognised. `group` joins
        the look-alikes an uncertain put-back may have been (units None): one pick takes the whole group."""
        if k not in self.contents.setdefault(plate, []):
            self.contents[plate].append(k)
            self.stock.setdefault(plate, {})[k] = units
            self.visitors.setdefault(plate, {})[k] = k if group is None else group

    def is_visitor(self, plate: str, k: int) -> bool:
        """On `plate` only because a put-back left it there: a pick of it follows its units, no pseudo stock."""
        return k in self.visitors.get(plate, {})

    def _leave(self, plate: str, k: int) -> None:
        group = self.visitors[plate][k]
        for other in [o for o, g in self.visitors[plate].items() if g == group]:
            self.contents[plate].remove(other)
            self.stock[plate].pop(other, None)
            del self.visitors[plate][other]

    def stock_report(self) -> dict[str, dict[str, int]]:
        return {plate: {self.skus[k]: units for k, units in sorted(entries.items()) if units is not None}
                for plate, entries in self.stock.items() if any(u is not None for u in entries.values())}

    def learned_sigmas(self) -> dict[str, float]:
        return {self.skus[k]: round(math.sqrt(max(s.unit_var, self.min_unit_sigma_g ** 2)), 3)
                for k, s in self.learned.items() if s.events >= self.learn_min_events}

    def forget_picks(self, k: int, units: int) -> None:
        """Drop `units` recent picks of SKU `k` (a reviewer's answer takes a pick back, edge/fusion/answers.py)."""
        self._forget_returned(k, units)

    def _forget_returned(self, k: int, units: int) -> None:
        for _ in range(units):
            for i, (_, picked) in enumerate(self.recent_picks):
                if picked == k:
                    del self.recent_picks[i]
                    break
