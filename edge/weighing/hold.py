"""Hold presses too heavy to be a hand until they prove to persist.

A forearm or elbow resting on a shelf can be as steady as a put and weighs kilograms (a forearm
and hand alone are ~1.5 kg); an arm only adds weight. A positive change larger than `above_g` is
therefore held for `hold_s` (heavy picks are emitted at once).
If the same plates move back by about the same amount meanwhile, both were a transient (a lean)
and nothing is emitted; if they move back by a different amount, the net change is emitted as
one event; if nothing comes back, the held event is emitted (flag `held`) once its plates are
quiet. Restocks that add several kilograms at once are reported late, never lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from edge.model import WeightEvent
from edge.weighing.trace import merged


@dataclass(frozen=True, slots=True)
class Held:
    event: WeightEvent
    until: float


class HeavyChangeHold:
    def __init__(self, above_g: float, hold_s: float, min_event_g: float) -> None:
        self.above_g = above_g
        self.hold_s = hold_s
        self.min_event_g = min_event_g
        self._held: list[Held] = []

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def offer(self, event: WeightEvent, now: float) -> list[WeightEvent]:
        """What to emit now for a freshly decided event."""
        for index, held in enumerate(self._held):
            if set(held.event.plate_deltas) == set(event.plate_deltas) and (held.event.delta_g > 0) != (
                event.delta_g > 0
            ):
                del self._held[index]
                return self._net(held.event, event)
        if event.delta_g > self.above_g:  # an arm only ever presses: a heavy pick is emitted at once
            self._held.append(Held(event, now + self.hold_s))
            return []
        return [event]

    def due(self, now: float, busy_plates: set[str]) -> list[WeightEvent]:
        """Held events whose time is up and whose plates are quiet: they persisted, emit them."""
        out = []
        for held in list(self._held):
            if now >= held.until and not busy_plates & set(held.event.plate_deltas):
                self._held.remove(held)
                out.append(replace(held.event, flags=(*held.event.flags, "held")))
        return out

    def release(self) -> list[WeightEvent]:
        """Every held event, now (a stop): flagged `held`, though whether it persists is not known yet."""
        out = [replace(held.event, flags=(*held.event.flags, "held")) for held in self._held]
        self._held.clear()
        return out

    def _net(self, first: WeightEvent, second: WeightEvent) -> list[WeightEvent]:
        deltas = {name: first.plate_deltas[name] + second.plate_deltas.get(name, 0.0) for name in first.plate_deltas}
        total = first.delta_g + second.delta_g
        if abs(total) < self.min_event_g:
            return []  # it came back: a lean or a hand resting on the shelf
        return [
            WeightEvent(
                t_start=first.t_start,
                t_end=second.t_end,
                plate_deltas={name: round(value, 3) for name, value in deltas.items()},
                delta_g=round(total, 3),
                sigma_g=round(math.hypot(first.sigma_g, second.sigma_g), 3),
                quality=second.quality if second.quality != "settled" else first.quality,
                flags=tuple(dict.fromkeys((*first.flags, *second.flags, "net_of_transient"))),
                traces=merged(first.traces, second.traces),
            )
        ]
