"""What every config section shares: frozen, unknown keys refused, problems located at their keys."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
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

    Values that would pass their type and range checks and still mean nothing are refused for every key:
    nan and inf (TOML has both: `inf > 0`), true/false for a number and a number for true/false (pydantic
    reads either as the other),
    an empty string (`state_dir = ""` would be the working directory), and a path starting with '~'
    (nothing expands it, so it would name a directory called '~').
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _meaningful(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        field = cls.model_fields[info.field_name]
        annotation = field.annotation
        if _holds_flag(value) and not _accepts_flag(annotation):
            raise ValueError("must be a number, not true or false")
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and _leaf_types(annotation) <= {bool, type(None)}:
            raise ValueError("must be true or false, not a number")
        if isinstance(value, str) and _leaf_types(annotation) <= {bool, type(None)}:
            raise ValueError("must be true or false, without quotes")  # pydantic would read "no", "on", "1"
        if isinstance(value, str) and not value.strip():
            fix = "set it" if field.is_required() else "remove the key for the default"
            raise ValueError(f"must not be empty; {fix}")
        if isinstance(value, str) and value.startswith("~") and Path in _leaf_types(annotation):
            raise ValueError("starts with '~', which nothing expands here; write the full path, e.g. /home/pi/...")
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
