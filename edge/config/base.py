"""What every config section shares: frozen, unknown keys refused, problems located at their keys."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

# Regular expressions used as `pattern=` and how to say them to a technician (see `worded_pattern`).
PATTERN_WORDS: dict[str, str] = {}


def worded_pattern(regex: str, words: str) -> str:
    """Register the words that explain `regex` in error messages; returns `regex` for `Field(pattern=...)`."""
    PATTERN_WORDS[regex] = words
    return regex


class Section(BaseModel):
    """One table of the TOML file. Unknown keys are errors, values are immutable after load.

    nan and inf are refused for every number, and true/false for every number that is not a flag:
    TOML has both, and either would pass a range check (`1 >= 1`, `inf > 0`) and mean nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_flag_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name is not None and _holds_flag(value) and not _accepts_flag(cls.model_fields[name].annotation):
            raise ValueError("must be a number, not true or false")
        return value


@dataclass(frozen=True, slots=True)
class KeyProblem:
    """One problem at `key` (relative to the model whose validator finds it), with the value found there."""

    key: tuple[str | int, ...]
    message: str
    value: Any = None


class KeyProblems(ValueError):
    """Raised by a model validator, so that each problem is reported at its own key with its own value,
    not at the model with the whole table as its value."""

    def __init__(self, problems: list[KeyProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def problem_at(key: str, message: str, value: Any = None) -> KeyProblems:
    """A KeyProblems with the one problem at `key` (a field of the raising model)."""
    return KeyProblems([KeyProblem((key,), message, value)])


def section_model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation (`X`, `X | None`, `list[X]`, `dict[str, list[X]]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in typing.get_args(annotation):
        found = section_model_of(inner)
        if found is not None:
            return found
    return None


def _holds_flag(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, list) and any(_holds_flag(v) for v in value))


def _accepts_flag(annotation: Any) -> bool:
    """False where the field takes numbers (or lists of them) but no flag; pydantic would read true as 1."""
    leaves = _leaf_types(annotation)
    return bool in leaves or not leaves & {int, float}


def _leaf_types(annotation: Any) -> set[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple):
        return set().union(*(_leaf_types(a) for a in typing.get_args(annotation)))
    return {annotation}
