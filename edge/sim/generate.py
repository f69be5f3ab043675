"""A realistic random scenario from a seed: shoppers, a restocking clerk, knocks, leans, faults.

`generate_scenario(seed, duration_s, plates, mix=...)` keeps track of stock, what shoppers
carry and which items lie across two plates, so every generated action is physically possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from edge.sim.layout import PlateSpec, ShelfLayout
from edge.sim.scenario import Action, Item, Scenario, Shelf, ShelfPlate, Slot

# A grocery catalogue from 30 g to 2 kg (nominal pack weights including packaging).
CATALOGUE: tuple[tuple[str, float], ...] = (
    ("gum-pack", 32.0), ("chocolate-bar", 52.0), ("crisps-150", 165.0), ("coffee-250", 268.0),
    ("cola-330", 352.0), ("cereal-375", 420.0), ("tomato-can-400", 458.0), ("pasta-500", 508.0),
    ("water-500", 517.0), ("yogurt-500", 530.0), ("milk-1l", 1065.0), ("juice-1l", 1090.0),
    ("rice-1kg", 1012.0), ("olive-oil-750", 1150.0), ("detergent-2kg", 2050.0),
)  # fmt: skip

# Relative frequency of each kind of episode. Faults overlay the timeline (they take no shelf time).
DEFAULT_MIX: dict[str, float] = {
    "pick": 0.36, "put_back": 0.12, "wrong_put": 0.03, "restock": 0.03, "back_to_back": 0.07,
    "adjacent": 0.06, "across": 0.04, "bump": 0.08, "lean": 0.05, "heavy_lean": 0.015,
    "glitch": 0.05, "dropout": 0.015, "drop_lines": 0.02, "corrupt": 0.03, "reboot": 0.005,
}  # fmt: skip
_OVERLAYS = frozenset({"glitch", "dropout", "drop_lines", "corrupt", "reboot"})


def generate_scenario(
    seed: int,
    duration_s: float | None = None,
    plates: Sequence[str] | Sequence[PlateSpec] | ShelfLayout = ("p1", "p2", "p3", "p4"),
    mix: Mapping[str, float] | None = None,
    interactions: int | None = None,
    name: str | None = None,
) -> Scenario:
    """Episodes until `duration_s` has passed, or until `interactions` shopper actions
    (pick/put/restock: the ones that must give an event) exist, whichever is given (both: first)."""
    if duration_s is None and interactions is None:
        raise ValueError("give duration_s or interactions")
    weights = dict(DEFAULT_MIX)
    for key, value in (mix or {}).items():
        if key not in DEFAULT_MIX or value < 0:
            raise ValueError(f"mix: unknown episode {key!r} or negative weight; known: {', '.join(DEFAULT_MIX)}")
        weights[key] = value
    names, shelf = _plates(plates)
    rng = np.random.default_rng([seed, 0x6E4])
    picks = rng.choice(len(CATALOGUE), size=min(len(names), len(CATALOGUE)), replace=False)
    chosen = [CATALOGUE[int(picks[i % len(picks)])] for i in range(len(names))]
    items = {sku: Item(sku=sku, unit_g=grams) for sku, grams in chosen}
    planogram = [
        Slot(plate=plate, sku=sku, stock=int(np.clip(round(3500.0 / grams), 3, 24)))
        for plate, (sku, grams) in zip(names, chosen, strict=True)
    ]
    builder = _Builder(rng, names, {s.plate: s.sku for s in planogram}, {s.plate: s.stock for s in planogram})
    kinds = list(weights)
    probabilities = np.asarray([weights[k] for k in kinds]) / sum(weights.values())
    t = 2.0
    while (duration_s is None or t < duration_s) and (interactions is None or builder.interactions < interactions):
        kind = str(rng.choice(kinds, p=probabilities))
        if kind in _OVERLAYS:
            builder.overlay(kind, t + float(rng.uniform(0.0, 3.0)))
            continue
        t = builder.episode(kind, t) + float(rng.uniform(0.5, 3.0))
    return Scenario(
        name=name or f"generated-{seed}",
        seed=seed,
        duration_s=(duration_s if interactions is None else None) or t + 5.0,
        shelf=shelf,
        items=list(items.values()),
        planogram=planogram,
        actions=builder.actions,
    )


def _plates(plates: Sequence[str] | Sequence[PlateSpec] | ShelfLayout) -> tuple[list[str], Shelf | None]:
    specs = list(plates.plates) if isinstance(plates, ShelfLayout) else list(plates)
    if not specs:
        raise ValueError("generate_scenario needs at least one plate")
    if all(isinstance(p, str) for p in specs):
        return [str(p) for p in specs], None
    typed = [p for p in specs if isinstance(p, PlateSpec)]
    channels = plates.channels if isinstance(plates, ShelfLayout) else 1 + max(c for p in typed for c in p.channels)
    shelf = Shelf(channels=channels, plates=[ShelfPlate(name=p.name, channels=list(p.channels)) for p in typed])
    return [p.name for p in typed], shelf


class _Builder:
    """Keeps stock, baskets and across-lying items so every action it emits is possible."""

    def __init__(self, rng: np.random.Generator, plates: list[str], sku: dict[str, str], stock: dict[str, int]):
        self.rng = rng
        self.plates = plates
        self.sku = sku
        self.stock = dict(stock)
        self.basket: list[str] = []
        self.across: list[tuple[str, str]] = []
        self.actions: list[Action] = []
        self.interactions = 0

    def _add(self, **fields: object) -> None:
        action = Action.model_validate(fields)
        self.actions.append(action)
        if action.kind in {"pick", "put", "restock"}:
            self.interactions += 1

    def _plate(self) -> int:
        return int(self.rng.integers(len(self.plates)))

    def _pick(self, index: int, at: float) -> bool:
        plate = self.plates[index]
        if self.stock[plate] < 1:
            self._add(at=at, kind="restock", plate=plate, count=int(self.rng.integers(3, 7)))
            self.stock[plate] += self.actions[-1].count
            return False
        self._add(at=at, kind="pick", plate=plate)
        self.stock[plate] -= 1
        self.basket.append(self.sku[plate])
        return True

    def episode(self, kind: str, t: float) -> float:
        """Emit one episode starting at t; return when the shelf is calm again (estimate)."""
        rng, index = self.rng, self._plate()
        plate = self.plates[index]
        if kind == "pick":
            return t + (3.5 if self._pick(index, t) else 8.0)
        if kind == "back_to_back":
            if self._pick(index, t) and self._pick(index, t + float(rng.uniform(1.6, 3.0))):
                return t + 6.5
            return t + 8.0
        if kind == "adjacent" and len(self.plates) > 1:
            other = index + 1 if index + 1 < len(self.plates) else index - 1
            self._pick(index, t)
            self._pick(other, t + float(rng.uniform(0.0, 0.4)))
            return t + 4.0
        if kind in {"put_back", "wrong_put"} and self.basket:
            sku = self.basket.pop(int(rng.integers(len(self.basket))))
            home = next(p for p in self.plates if self.sku[p] == sku)
            target = (
                home
                if kind == "put_back"
                else next(
                    (p for p in self.plates if self.sku[p] != sku and abs(self.plates.index(p) - index) <= 1), home
                )
            )
            self._add(at=t, kind="put", plate=target, sku=sku)
            self.stock[target] += target == home
            return t + 3.0
        if kind == "restock":
            count = int(rng.integers(2, 6))
            self._add(at=t, kind="restock", plate=plate, count=count)
            self.stock[plate] += count
            return t + 1.5 * count + 2.0
        if kind == "across" and len(self.plates) > 1:
            pair = (plate, self.plates[index + 1 if index + 1 < len(self.plates) else index - 1])
            if self.across:
                pair = self.across.pop(0)
                self._add(at=t, kind="pick", plates=list(pair))
            else:
                self.across.append(pair)
                self._add(
                    at=t, kind="put", plates=list(pair), sku=self.sku[pair[0]], split=float(rng.uniform(0.3, 0.7))
                )
            return t + 3.5
        if kind == "bump":
            self._add(at=t, kind="bump", plate=plate)
            return t + 2.0
        if kind in {"lean", "heavy_lean"}:
            hold = float(rng.uniform(1.0, 6.0))
            force = float(rng.uniform(30_000, 40_000)) if kind == "heavy_lean" else float(rng.uniform(1500, 12_000))
            self._add(at=t, kind="lean", plate=plate, grams=force, duration_s=hold, note=kind.replace("_", " "))
            return t + hold + 2.5
        return self.episode("pick", t)

    def overlay(self, kind: str, at: float) -> None:
        if kind in {"glitch", "dropout"}:
            self._add(at=at, kind=kind, plate=self.plates[self._plate()])
        else:
            self._add(at=at, kind=kind)
