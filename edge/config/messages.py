"""Say a validation error the way a technician reads the file: key path, what is wrong, what is allowed, the value.

Values are written as TOML/JSON would write them (`true`, `"text"`, `[6, 8]`), never as Python (`True`,
`'text'`, `None`). A whole table is never echoed: the key path already names it, and it may hold secrets.
Values at secret keys (password, token, ...) are never shown; only their length is.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from edge.config.base import PATTERN_WORDS, KeyProblems, section_model_of

CONFIG_DOCS = "docs/config.md"
SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "credential")
VALUE_CHARS = 60

# pydantic error type -> what is allowed, in the file's words; {name} fields come from the error's context.
ALLOWED = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number, not nan or inf",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string in quotes",
    "path_type": "must be a path in quotes",
    "list_type": "must be a list in brackets",
    "tuple_type": "must be a list in brackets",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "too_short": "needs at least {min_length} entries",
    "too_long": "takes at most {max_length} entries",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "literal_error": "must be {expected}",
}


def describe_validation_error(
    exc: ValidationError, *, model: type[BaseModel] | None = None, docs: str = CONFIG_DOCS
) -> list[str]:
    """One line per problem: `key.path: what is wrong, what is allowed (got VALUE)`.

    `model` (the validated root) lets unknown keys get a did-you-mean; `docs` is where its keys are listed.
    A model check that raises KeyProblems gives one line per key it names, so lines need not pair with
    `exc.errors()` one to one.
    """
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, KeyProblems):
            lines.extend(_merged([(loc + p.key, p.message, p.value) for p in cause.problems]))
        else:
            lines.append(_line(loc, _message(error, loc, model, docs), error.get("input"), error["type"]))
    return lines


def key_path(loc: tuple[int | str, ...]) -> str:
    """`("plates", 3, "channels")` -> `plates[3].channels`."""
    parts: list[str] = []
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + str(item))
    return "".join(parts) or "<top level>"


def render_value(value: Any, limit: int | None = VALUE_CHARS) -> str:
    """A value as it is written in TOML/JSON, cut to `limit` characters."""
    text = _toml(value)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def is_secret_key(loc: tuple[int | str, ...]) -> bool:
    """A key that holds a secret word, or a word one typo from one (`pasword`): a misspelt key is echoed
    as an unknown key, and its value is as secret as the key meant."""
    return any(isinstance(part, str) and _names_a_secret(part.lower()) for part in loc)


def _names_a_secret(name: str) -> bool:
    if any(word in name for word in SECRET_WORDS):
        return True
    return any(difflib.get_close_matches(word, SECRET_WORDS, n=1, cutoff=0.8) for word in name.split("_"))


def hidden_value(value: Any) -> str:
    if isinstance(value, str):
        return f"an inline value, {len(value)} characters, not shown"
    return "a value, not shown"


def _merged(problems: list[tuple[tuple[int | str, ...], str, Any]]) -> list[str]:
    """One line per key: its messages joined, its value once."""
    by_key: dict[tuple[int | str, ...], tuple[list[str], Any]] = {}
    for loc, message, value in problems:
        by_key.setdefault(loc, ([], value))[0].append(message)
    return [_line(loc, "; ".join(messages), value, "value_error") for loc, (messages, value) in by_key.items()]


def _line(loc: tuple[int | str, ...], message: str, value: Any, kind: str) -> str:
    if kind == "missing" or value is None or isinstance(value, dict) or _is_tables(value):
        shown = ""
    else:
        text = hidden_value(value) if is_secret_key(loc) else render_value(value)
        shown = f" ({'value' if kind == 'extra_forbidden' else 'got'} {text})"
    return f"{key_path(loc)}: {message}{shown}"


def _message(error: Any, loc: tuple[int | str, ...], model: type[BaseModel] | None, docs: str) -> str:
    kind = error["type"]
    context = error.get("ctx", {})
    field = _field_at(model, loc)
    is_table = field is not None and section_model_of(field.annotation) is not None
    if kind == "missing":
        one_table = field is not None and section_model_of(field.annotation) is field.annotation
        what = f"required section [{key_path(loc)}]" if one_table else "required key"
        return f"{what} is missing; add it (see {docs})"
    if kind == "extra_forbidden":
        return _unknown_key(loc, error.get("input"), model, docs)
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern", ""))
        return "must be " + PATTERN_WORDS.get(pattern, f"text matching the regular expression {pattern}")
    if kind == "list_type" and is_table and isinstance(error.get("input"), dict):
        name = key_path(loc)
        return f"must be a list of tables: write [[{name}]] once for each entry, not [{name}]"
    if kind in {"model_type", "dict_type"} and is_table:
        return f"must be a table: a [{key_path(loc)}] section"
    if kind == "literal_error":
        context = {"expected": re.sub(r"'([^']*)'", r'"\1"', str(context.get("expected", "")))}
    if kind in {"too_short", "string_too_short"} and context.get("min_length") == 1:
        return "must not be empty"
    if kind in ALLOWED:
        return ALLOWED[kind].format(**{k: _bound(v) for k, v in context.items()})
    return str(error["msg"]).removeprefix("Value error, ")


def _unknown_key(loc: tuple[int | str, ...], value: Any, model: type[BaseModel] | None, docs: str) -> str:
    what = "unknown section" if isinstance(value, dict) or _is_tables(value) else "unknown key"
    parent = _model_at(model, loc[:-1])
    name = loc[-1] if loc else ""
    close = difflib.get_close_matches(str(name), list(parent.model_fields), n=1) if parent is not None else []
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{what}; {hint}remove it or check its spelling (see {docs})"


def _model_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that validates the table at `loc` (list indexes skipped), or None if not a known table."""
    current = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = section_model_of(field.annotation) if field is not None else None
    return current


def _field_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> FieldInfo | None:
    parent = _model_at(model, loc[:-1]) if loc else None
    return parent.model_fields.get(str(loc[-1])) if parent is not None and isinstance(loc[-1], str) else None


def _bound(value: Any) -> str:
    """A limit from the error's context: `0` rather than `0.0`; preformatted text as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)
