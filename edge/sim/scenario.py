"""What happens on the shelf, as data: items, planogram, timed actions (file or generated).

A scenario says *what* happens and when (`at`, seconds from the start); the resolver turns it
into physics (exact unit weights, hand forces, settling) using the scenario seed.
File format: TOML, documented in docs/simulator.md; config/sim-scenario.toml shows every kind.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.config.loader import describe_validation_error
from edge.errors import ConfigError
from edge.sim.physics import Physics
from edge.sim.planogram_file import merge_planogram_file

ActionKind = Literal[
    "pick", "put", "restock", "bump", "lean", "glitch", "dropout", "drop_lines", "corrupt", "reboot", "camera_down"
]
SHOPPER_KINDS = frozenset({"pick", "put", "restock"})  # change what is on the shelf
FAULT_KINDS = frozenset({"glitch", "dropout", "drop_lines", "corrupt"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Model):
    sku: str = Field(min_length=1, description="Stock keeping unit, e.g. 'cola-330'.")
    unit_g: float = Field(gt=0, le=20_000, description="Nominal weight of one unit in grams.")
    variation: float = Field(default=0.01, ge=0, le=0.2, description="Unit-to-unit spread (1 sigma, fraction).")
    name: str | None = Field(default=None, description="Product name (default: the sku).")
    labels: list[str] = Field(default_factory=list, description="Detector labels that identify it (zero or more).")
    look: str | None = Field(
        default=None, description="Photo family it looks like to the camera (edge.sim.photo_rates.FAMILY_LABEL)."
    )


class Slot(_Model):
    """One SKU on one plate; a mixed plate has several slots."""

    plate: str
    sku: str
    stock: int = Field(default=8, ge=0, le=500, description="Units on the plate at the start.")
    tray_g: float | None = Field(default=None, ge=0, description="Empty tray weight; drawn from the seed if unset.")


class ShelfPlate(_Model):
    name: str
    channels: list[int] = Field(min_length=1, max_length=4)


class Shelf(_Model):
    """Used when no node config is given (the node config's [serial]/[[plates]] win otherwise)."""

    channels: int = Field(ge=1, le=32)
    plates: list[ShelfPlate] = Field(min_length=1)


class Calibration(_Model):
    """Fixed per-channel calibration instead of the seed's random one (e.g. to match a real shelf)."""

    counts_per_gram: list[float] | None = Field(default=None, description="One value per channel, > 0.")
    offsets: list[int] | None = Field(default=None, description="Counts at zero load, one per channel.")

    @model_validator(mode="after")
    def _positive(self) -> Calibration:
        if self.counts_per_gram and min(self.counts_per_gram) <= 0:
            raise ValueError("counts_per_gram must all be > 0 (a negative scale means swapped bridge wires)")
        return self


class Action(_Model):
    at: float = Field(ge=0, description="Seconds from the scenario start when the hand touches / the fault begins.")
    kind: ActionKind
    plate: str | None = None
    plates: list[str] | None = Field(default=None, min_length=1, max_length=3)
    split: float = Field(default=0.5, gt=0, lt=1, description="Across two plates: fraction on the first plate.")
    sku: str | None = None
    count: int = Field(default=1, ge=1, le=50)
    grams: float | None = Field(default=None, gt=0, description="Bump strength / lean force in grams.")
    duration_s: float | None = Field(default=None, gt=0, le=600)
    channel: int | None = Field(default=None, ge=0)
    mode: str | None = Field(default=None, description="glitch: bitflip|rail|zero; corrupt: bitflip|truncate.")
    note: str = ""

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Action:
        if self.kind in SHOPPER_KINDS | {"lean"} and not (self.plate or self.plates):
            raise ValueError(f"{self.kind} needs 'plate' (or 'plates' = [two plates] for an item across two)")
        if self.plate and self.plates:
            raise ValueError("give either 'plate' or 'plates', not both")
        if self.kind in SHOPPER_KINDS and self.plates and len(self.plates) != 2:
            raise ValueError(f"an item across plates lies on exactly two plates, got {len(self.plates)}")
        if self.kind in {"pick", "put"} and self.plates and self.count != 1:
            raise ValueError("an item lying across two plates is one item: count must be 1")
        if self.kind in {"glitch", "dropout"} and self.channel is None and not self.plate:
            raise ValueError(f"{self.kind} needs 'channel' (or 'plate', to pick one of its channels)")
        return self

    def plate_list(self) -> list[str]:
        return list(self.plates) if self.plates else ([self.plate] if self.plate else [])


class Scenario(_Model):
    name: str = "scenario"
    seed: int = Field(default=0, ge=0, description="Drives every random draw (unit weights, noise, faults).")
    duration_s: float | None = Field(default=None, gt=0, description="Run length; default: last action + 10 s.")
    shelf: Shelf | None = None
    items: list[Item] = Field(min_length=1)
    planogram: list[Slot] = Field(min_length=1)
    actions: list[Action] = Field(default_factory=list)
    calibration: Calibration | None = None
    planogram_id: str = Field(default="sim", description="Id of the planogram document the node is given.")
    physics: dict[str, float | tuple[float, float]] | None = Field(
        default=None, description="Overrides of edge.sim.physics.Physics fields (ranges as [low, high])."
    )

    @model_validator(mode="after")
    def _physics_known(self) -> Scenario:
        known = set(Physics.__dataclass_fields__)
        for key, value in (self.physics or {}).items():
            if key not in known:
                raise ValueError(f"physics.{key}: unknown parameter; known: {', '.join(sorted(known))}")
            default = getattr(Physics(), key)
            if isinstance(default, tuple) != isinstance(value, tuple):
                shape = "a [low, high] range" if isinstance(default, tuple) else "one number"
                shown = list(default) if isinstance(default, tuple) else default
                raise ValueError(f"physics.{key}: must be {shape} (default {shown})")
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"physics.{key}: low {value[0]} is above high {value[1]}; swap them")
        return self

    def physics_model(self) -> Physics:
        return Physics(**(self.physics or {}))  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        skus = {item.sku for item in self.items}
        problems = [f"planogram: sku {s.sku!r} is not in [[items]]" for s in self.planogram if s.sku not in skus]
        pairs = [(s.plate, s.sku) for s in self.planogram]
        twice = sorted({pair for pair in pairs if pairs.count(pair) > 1})
        problems += [f"planogram: {sku!r} listed twice on {plate}" for plate, sku in twice]
        for index, action in enumerate(self.actions):
            if action.sku is not None and action.sku not in skus:
                problems.append(f"actions[{index}].sku: {action.sku!r} is not in [[items]]")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def end_s(self) -> float:
        if self.duration_s is not None:
            return self.duration_s
        return max((a.at + (a.duration_s or 0.0) for a in self.actions), default=0.0) + 10.0

    def item(self, sku: str) -> Item:
        return next(i for i in self.items if i.sku == sku)

    def slot(self, plate: str) -> Slot | None:
        """The plate's first slot (its main SKU), or None."""
        return next((s for s in self.planogram if s.plate == plate), None)

    def slots(self, plate: str) -> list[Slot]:
        return [s for s in self.planogram if s.plate == plate]

    def belongs(self, plate: str, sku: str) -> bool:
        """Whether the planogram puts `sku` on `plate` (else a put there is misplaced)."""
        return any(s.sku == sku for s in self.slots(plate))

    def home(self, sku: str) -> list[str]:
        return [s.plate for s in self.planogram if s.sku == sku]


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; every problem is reported with its key path (ConfigError).

    `planogram_file = "FILE.json"` (relative to the scenario) takes the catalogue and planogram
    from a planogram v2 document instead of [[items]] / [[planogram]] (edge.sim.planogram_file)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; see config/sim-scenario.toml for an example") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # int() refuses a 5000-digit integer
        raise ConfigError(f"{path}: not valid TOML: a number with too many digits") from None
    raw = merge_planogram_file(raw, path)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        described = describe_validation_error(exc, model=Scenario, docs="docs/simulator.md")
        problems = [f"{path}: {line}" for line in described]
        summary = problems[0] if len(problems) == 1 else f"{path}: {len(problems)} problems"
        raise ConfigError(summary, problems) from None
