"""The planogram: the store catalogue and which SKUs live on which plate. Published by the hub,
validated, persisted here. Format 2; see docs/planogram.md.

The hub publishes it retained to `<root>/planogram` (or the node reads `[fusion] planogram = FILE`);
the node validates it whole against this model and its own plates, hands it to fusion and persists
it atomically in state_dir, so it survives restarts. A bad planogram is refused whole; the old one
stays. Format 1 documents (products listed per plate) are read by converting them (`upgrade_v1`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.atomic_file import replace_atomically
from edge.config.loader import describe_validation_error
from edge.errors import ConfigError

FILE_NAME = "planogram.json"
FORMAT = 2
MAX_BYTES = 1024 * 1024  # a 5 MB retained planogram slowed every start by seconds (issue 11)
MAX_SKUS = 5000
SKU = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
LABEL = r"^[^\s].{0,99}$"
DOCS = "docs/planogram.md"


class PlanogramTooLarge(ConfigError):
    """The document is over MAX_BYTES; answered with the `too_large` code."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CatalogueItem(_Strict):
    sku: str = Field(pattern=SKU, description="Stock keeping unit, the hub's product key.")
    name: str = Field(min_length=1, max_length=200)
    unit_weight_g: float = Field(gt=0, le=100_000, description="Mean weight of one unit, grams.")
    unit_sigma_g: float = Field(ge=0, le=10_000, description="Spread (1 sigma) of one unit's weight, grams.")
    labels: list[str] = Field(default_factory=list, max_length=20,
                              description="Detector labels that identify this SKU (zero or more).")
    price: float | None = Field(default=None, ge=0, description="Optional unit price, store currency.")

    @model_validator(mode="after")
    def _labels_unique(self) -> CatalogueItem:
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels: a label is listed twice for sku {self.sku!r}")
        if any(not label.strip() for label in self.labels):
            raise ValueError(f"labels: empty label for sku {self.sku!r}")
        return self


class Slot(_Strict):
    sku: str = Field(pattern=SKU, description="A SKU of the catalogue that lives on this plate.")
    stock: int | None = Field(default=None, ge=0, le=100_000, description="Units on the plate now, if known.")
    facings: int | None = Field(default=None, ge=1, le=1000, description="Facings (columns) of this SKU.")


class Planogram(_Strict):
    format: Literal[2] = Field(description="Document format; 2. Format 1 (no `format` key) is converted.")
    id: str = Field(min_length=1, max_length=100, description="Planogram identifier chosen by the hub.")
    version: int = Field(ge=0, description="Increases with every change the hub makes.")
    catalogue: list[CatalogueItem] = Field(max_length=MAX_SKUS, description="Every SKU that may appear on "
                                           "this shelf, including ones that belong elsewhere.")
    plates: dict[str, list[Slot]] = Field(description="Plate name -> the SKUs that live there.")

    @model_validator(mode="after")
    def _references_resolve(self) -> Planogram:
        problems: list[str] = []
        skus = [item.sku for item in self.catalogue]
        twice = sorted({s for s in skus if skus.count(s) > 1})
        if twice:
            problems.append(f"catalogue: sku listed twice: {', '.join(twice)}")
        known = set(skus)
        for plate, slots in self.plates.items():
            on_plate = [slot.sku for slot in slots]
            duplicates = sorted({s for s in on_plate if on_plate.count(s) > 1})
            if duplicates:
                problems.append(f"plates.{plate}: sku listed twice: {', '.join(duplicates)}")
            for index, slot in enumerate(slots):
                if slot.sku not in known:
                    problems.append(f"plates.{plate}[{index}].sku: {slot.sku!r} is not in the catalogue; "
                                    f"add it to `catalogue` or fix the spelling")
        if problems:
            raise ValueError("\n".join(problems))  # split again into one line each by _describe
        return self

    def item(self, sku: str) -> CatalogueItem:
        for entry in self.catalogue:
            if entry.sku == sku:
                return entry
        raise KeyError(sku)


def is_format_1(raw: Any) -> bool:
    """A format 1 document: no `format` key and products (with unit weights) listed per plate."""
    if not isinstance(raw, dict) or "format" in raw or "catalogue" in raw:
        return False
    plates = raw.get("plates")
    return isinstance(plates, dict) and all(
        isinstance(products, list) and all(isinstance(p, dict) and "unit_weight_g" in p for p in products)
        for products in plates.values())


def upgrade_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Format 1 -> format 2: the products become the catalogue, `weight_tolerance_g` is read as 2 sigma,
    `label` becomes `labels`. A SKU described differently on two plates cannot be converted."""
    catalogue: dict[str, dict[str, Any]] = {}
    plates: dict[str, list[dict[str, Any]]] = {}
    problems: list[str] = []
    for plate, products in raw["plates"].items():
        plates[plate] = []
        for index, product in enumerate(products):
            entry = {key: value for key, value in product.items() if key not in {"weight_tolerance_g", "label"}}
            tolerance = product.get("weight_tolerance_g")
            entry["unit_sigma_g"] = tolerance / 2 if isinstance(tolerance, (int, float)) else tolerance
            label = product.get("label")
            entry["labels"] = [] if label is None else [label]
            sku = product.get("sku")
            if not isinstance(sku, str):
                problems.append(f"planogram: plates.{plate}[{index}].sku: required text (format 1 document)")
                continue
            if sku in catalogue and catalogue[sku] != entry:
                problems.append(f"planogram: plates.{plate}[{index}]: sku {sku!r} is described differently on "
                                f"another plate; a format 1 document cannot say which is right. Write it as "
                                f"format 2 with one catalogue entry (see {DOCS})")
            catalogue.setdefault(sku, entry)
            plates[plate].append({"sku": sku})
    if problems:
        raise ConfigError("; ".join(problems), problems)
    rest = {key: value for key, value in raw.items() if key != "plates"}  # unknown keys still get refused
    return {"format": FORMAT, **rest, "catalogue": list(catalogue.values()), "plates": plates}


def parse_planogram(payload: bytes | str, plate_names: Iterable[str]) -> Planogram:
    """Validate a planogram document; raises ConfigError listing every problem (PlanogramTooLarge when
    it is over MAX_BYTES)."""
    size = len(payload.encode() if isinstance(payload, str) else payload)
    if size > MAX_BYTES:
        raise PlanogramTooLarge(f"planogram: {size} bytes is over the limit of {MAX_BYTES}; a shelf needs only "
                                f"the SKUs that can appear on it (catalogue of at most {MAX_SKUS})")
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"planogram: not valid JSON: {exc}") from None
    except RecursionError:  # a few KB of '[' (issue 11, same class: no traceback on garbage)
        raise ConfigError("planogram: not a planogram: arrays or objects nested too deeply") from None
    except ValueError:  # int() refuses an integer this long, with advice for Python programmers
        raise ConfigError(f"planogram: not valid JSON: a number with more than {sys.get_int_max_str_digits()} "
                          "digits") from None
    converted = is_format_1(raw)
    if converted:
        raw = upgrade_v1(raw)
    elif isinstance(raw, dict) and raw.get("format") not in (None, FORMAT):
        raise ConfigError(f"planogram: format: {raw.get('format')!r} is not supported; this node reads format "
                          f"{FORMAT} (and converts format 1); see {DOCS}")
    try:
        planogram = Planogram.model_validate(raw)
    except ValidationError as exc:
        note = " (in the format 2 reading of this format 1 document)" if converted else ""
        problems = [f"planogram: {line}{note}" for line in _describe(exc)]
        raise ConfigError("; ".join(problems), problems) from None
    known = set(plate_names)
    unknown = sorted(set(planogram.plates) - known)
    if unknown:
        raise ConfigError(
            f"planogram: plates {', '.join(unknown)} do not exist on this node (it has {', '.join(sorted(known))}); "
            f"fix the planogram or the node's [[plates]]"
        )
    return planogram


def _describe(exc: ValidationError) -> list[str]:
    """Located lines; whole-document checks name their own keys, so they carry no `(got <document>)`."""
    lines: list[str] = []
    described = describe_validation_error(exc, model=Planogram, docs=DOCS)
    for error, line in zip(exc.errors(include_url=False), described, strict=True):
        if not error["loc"]:
            lines.extend(str(error["msg"]).removeprefix("Value error, ").split("\n"))
        else:
            lines.append(line)
    return lines


def succession_problem(current: Planogram | None, new: Planogram) -> str | None:
    """Why `new` must not replace `current`: a version going backwards, or one version with two contents.
    A different planogram id starts a new version sequence and is accepted."""
    if current is None or current.id != new.id:
        return None
    if new.version < current.version:
        return (f"planogram {new.id}: version {new.version} is older than the applied version {current.version}; "
                f"publish a version above {current.version}")
    if new.version == current.version and new != current:
        return (f"planogram {new.id}: version {new.version} is already applied with different content; "
                f"every change needs a new version (publish it as version {current.version + 1})")
    return None


def load_planogram_file(path: str | Path, plate_names: Iterable[str]) -> Planogram:
    """Read and validate a planogram file (`[fusion] planogram`, replay, `planogram check`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the planogram: {exc.strerror or exc}") from None
    try:
        return parse_planogram(data, plate_names)
    except ConfigError as exc:
        raise type(exc)(f"{path}: {exc}", [f"{path}: {p}" for p in exc.problems]) from None


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
