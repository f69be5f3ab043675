"""What lies where, unit by unit: plates, items lying across two plates, the shopper's basket.

Each physical unit has its own weight (nominal +- the SKU's variation), so a put-back returns
exactly the grams that the pick took away.
"""

from __future__ import annotations

import numpy as np

from edge.errors import ConfigError
from edge.sim.scenario import Scenario

Unit = tuple[str, float]  # (sku, grams)


class Stock:
    def __init__(self, scenario: Scenario, plates: list[str], rng: np.random.Generator) -> None:
        self.scenario = scenario
        self.rng = rng  # shared with the resolver: draws stay in one deterministic order
        self.units: dict[str, list[Unit]] = {name: [] for name in plates}
        self.across: list[tuple[tuple[str, str], str, float, float]] = []  # plates, sku, grams, split
        self.basket: dict[str, list[float]] = {}

    def new_unit(self, sku: str) -> float:
        item = self.scenario.item(sku)
        return float(item.unit_g * (1.0 + item.variation * self.rng.standard_normal()))

    def default_sku(self, plate: str) -> str:
        slot = self.scenario.slot(plate)
        on_plate = self.units.get(plate) or []
        if slot is not None and (not on_plate or any(s == slot.sku for s, _ in on_plate)):
            return slot.sku
        if on_plate:
            return on_plate[-1][0]
        raise ConfigError(f"plate {plate!r} has no planogram slot and nothing on it; give 'sku'")

    def take(self, plate: str, sku: str, count: int) -> list[float]:
        """Remove `count` random units of `sku` from `plate` into the basket; their weights."""
        units = self.units[plate]
        matching = [i for i, (s, _) in enumerate(units) if s == sku]
        if len(matching) < count:
            raise ConfigError(
                f"plate {plate!r} holds {len(matching)} unit(s) of {sku!r}, cannot pick {count}; restock first"
            )
        chosen = sorted(self.rng.choice(matching, size=count, replace=False).tolist(), reverse=True)
        taken = [units.pop(i)[1] for i in chosen]
        self.basket.setdefault(sku, []).extend(taken)
        return taken

    def take_across(self, plates: list[str], sku: str | None) -> tuple[float, str, list[float]]:
        """Lift an item lying across these two plates: (grams, sku, share on each plate)."""
        for index, (pair, item_sku, grams, split) in enumerate(self.across):
            if set(pair) == set(plates) and (sku is None or sku == item_sku):
                del self.across[index]
                share = split if pair[0] == plates[0] else 1.0 - split
                self.basket.setdefault(item_sku, []).append(grams)
                return grams, item_sku, [share, 1.0 - share]
        raise ConfigError(f"no item lies across {plates[0]}+{plates[1]}; put one there first")

    def from_basket(self, sku: str) -> float:
        """The unit of `sku` the shopper took last, or a unit brought from elsewhere."""
        carried = self.basket.get(sku)
        return carried.pop() if carried else self.new_unit(sku)

    def place(self, plates: list[str], sku: str, units: list[float], split: float) -> None:
        if len(plates) == 2:
            self.across.append(((plates[0], plates[1]), sku, sum(units), split))
        else:
            self.units[plates[0]].extend((sku, g) for g in units)

    def contents(self) -> dict[str, list[Unit]]:
        """A copy of what lies on each plate now."""
        return {plate: list(units) for plate, units in self.units.items()}
