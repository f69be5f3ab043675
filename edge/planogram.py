"""The planogram: which products sit on which plate. Published by the hub, validated, persisted here.

The hub publishes it retained to `<root>/planogram`; the node validates it whole against this
model and its own plates, hands it to the pipeline (fusion) and persists it atomically in
state_dir, so it survives restarts. A bad planogram is refused whole; the old one stays.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.atomic_file import replace_atomically
from edge.config.loader import describe_validation_error
from edge.errors import ConfigError

FILE_NAME = "planogram.json"
SKU = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(_Strict):
    sku: str = Field(pattern=SKU, description="Stock keeping unit, the hub's product key.")
    name: str = Field(min_length=1, max_length=200)
    unit_weight_g: float = Field(gt=0, le=100_000, description="Weight of one unit in grams.")
    weight_tolerance_g: float = Field(ge=0, le=10_000, description="Accepted deviation of one unit, grams.")
    label: str | None = Field(default=None, max_length=100, description="Detector label, if the camera knows it.")


class Planogram(_Strict):
    id: str = Field(min_length=1, max_length=100, description="Planogram identifier chosen by the hub.")
    version: int = Field(ge=0, description="Increases with every change the hub makes.")
    plates: dict[str, list[Product]] = Field(description="Plate name -> products on that plate.")

    @model_validator(mode="after")
    def _unique_skus_per_plate(self) -> Planogram:
        for plate, products in self.plates.items():
            skus = [p.sku for p in products]
            duplicates = sorted({s for s in skus if skus.count(s) > 1})
            if duplicates:
                raise ValueError(f"plates.{plate}: sku listed twice: {', '.join(duplicates)}")
        return self


def parse_planogram(payload: bytes | str, plate_names: Iterable[str]) -> Planogram:
    """Validate a planogram document; raises ConfigError listing every problem."""
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"planogram: not valid JSON: {exc}") from None
    try:
        planogram = Planogram.model_validate(raw)
    except ValidationError as exc:
        problems = [f"planogram: {line}" for line in describe_validation_error(exc)]
        raise ConfigError("; ".join(problems), problems) from None
    known = set(plate_names)
    unknown = sorted(set(planogram.plates) - known)
    if unknown:
        raise ConfigError(
            f"planogram: plates {', '.join(unknown)} do not exist on this node (it has {', '.join(sorted(known))}); "
            f"fix the planogram or the node's [[plates]]"
        )
    return planogram


class PlanogramStore:
    """Persists the current planogram as JSON in state_dir with an atomic replace."""

    def __init__(self, state_dir: str | Path, plate_names: Iterable[str]) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self.plate_names = list(plate_names)

    def load(self) -> Planogram | None:
        """The persisted planogram, or None if there is none. Raises ConfigError if corrupt."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read: {exc}") from None
        return parse_planogram(data, self.plate_names)

    def save(self, planogram: Planogram) -> None:
        """Write to a temp file, fsync, rename over the old file, fsync the directory."""
        replace_atomically(self.path, planogram.model_dump_json(indent=2))
