"""The AIM3S-style baseline the weighing benchmark (bench/weighing.py) compares against (not in the product).

Per plate: moving variance over ~1 s; the plate is stable while the variance is under a fixed
threshold; on each unstable -> stable transition the change of the stable mean is an event if
it exceeds `min_event_g`. Changes on neighbouring plates emitted within `merge_s` of each other
are merged (the usual way such systems report an item lying across plates).
"""

from __future__ import annotations

from collections import deque

from edge.model import WeightEvent


class MovingVarianceBaseline:
    def __init__(self, plates: list[str], sps: float, window_s: float = 1.0, threshold_g: float = 2.0,
                 min_event_g: float = 10.0, merge_s: float = 0.3) -> None:
        self.plates = plates
        self.size = max(3, round(window_s * sps))
        self.threshold_var = threshold_g**2
        self.min_event_g = min_event_g
        self.merge_s = merge_s
        self._values: list[deque[float]] = [deque(maxlen=self.size) for _ in plates]
        self._sum = [0.0] * len(plates)
        self._sumsq = [0.0] * len(plates)
        self._stable = [False] * len(plates)
        self._level: list[float | None] = [None] * len(plates)
        self._unstable_since: list[float | None] = [None] * len(plates)
        self._recent: list[tuple[float, set[int], WeightEvent]] = []  # (first seen, plates, event)

    def feed(self, t: float, grams: list[float | None]) -> list[WeightEvent]:
        fresh: list[tuple[int, WeightEvent]] = []
        for index, value in enumerate(grams):
            if value is None:
                continue
            values = self._values[index]
            if len(values) == self.size:
                old = values[0]
                self._sum[index] -= old
                self._sumsq[index] -= old * old
            values.append(value)
            self._sum[index] += value
            self._sumsq[index] += value * value
            if len(values) < self.size:
                continue
            mean = self._sum[index] / self.size
            stable = self._sumsq[index] / self.size - mean * mean < self.threshold_var
            if stable and not self._stable[index]:
                level = self._level[index]
                if level is not None and abs(mean - level) > self.min_event_g:
                    start = self._unstable_since[index] or t
                    event = WeightEvent(start, t, {self.plates[index]: mean - level}, mean - level, 0.0)
                    fresh.append((index, event))
                self._level[index] = mean
            elif stable:
                self._level[index] = mean
            elif self._stable[index]:
                self._unstable_since[index] = t
            self._stable[index] = stable
        return self._merge(t, fresh)

    def _merge(self, t: float, fresh: list[tuple[int, WeightEvent]]) -> list[WeightEvent]:
        """Hold each event `merge_s`; a same-sign change on a neighbour in that time joins it."""
        for index, event in fresh:
            partner = next(
                (i for i, (_, plates, held) in enumerate(self._recent)
                 if any(abs(p - index) == 1 for p in plates) and (held.delta_g > 0) == (event.delta_g > 0)),
                None,
            )
            if partner is None:
                self._recent.append((t, {index}, event))
                continue
            since, plates, held = self._recent[partner]
            merged = WeightEvent(min(held.t_start, event.t_start), t, {**held.plate_deltas, **event.plate_deltas},
                                 held.delta_g + event.delta_g, 0.0, flags=("merged",))
            self._recent[partner] = (since, plates | {index}, merged)
        due = [held for since, _, held in self._recent if t - since >= self.merge_s]
        self._recent = [r for r in self._recent if t - r[0] < self.merge_s]
        return due
