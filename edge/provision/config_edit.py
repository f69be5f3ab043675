"""Set a few keys of a TOML config text, keeping everything else (comments included) as it was.

Only what provisioning needs: scalar keys in a named table (`[node]`, `[mqtt]`, `[mqtt.tls]`), the table
added when missing, and a table removed. The caller parses the result and checks the values landed,
so a template this simple editor misreads is refused instead of half-edited.
"""

from __future__ import annotations

import re
from typing import Any

from edge.config.messages import render_value

HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
ARRAY_HEADER = re.compile(r"^\s*\[\[")


def _table_span(lines: list[str], table: str) -> tuple[int, int] | None:
    """(header index, end index) of `[table]`; end is the next header or the end of the text."""
    start = None
    for index, line in enumerate(lines):
        match = HEADER.match(line)
        is_header = match is not None or ARRAY_HEADER.match(line) is not None
        if start is not None and is_header:
            return start, index
        if match is not None and match.group(1) == table:
            start = index
    return None if start is None else (start, len(lines))


def set_keys(text: str, table: str, values: dict[str, Any]) -> str:
    """`values` set in `[table]` (a None value removes the key); the table appended when missing."""
    lines = text.splitlines()
    span = _table_span(lines, table)
    if span is None:
        lines += ["", f"[{table}]"]
        span = (len(lines) - 1, len(lines))
    start, end = span
    for key, value in values.items():
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        found = next((i for i in range(start + 1, end) if pattern.match(lines[i])), None)
        if value is None:
            if found is not None:
                del lines[found]
                end -= 1
            continue
        line = f"{key} = {render_value(value, limit=None)}"
        if found is None:
            lines.insert(start + 1, line)
            end += 1
        else:
            comment = re.search(r"\s+#[^\"']*$", lines[found])
            lines[found] = line + (comment.group(0) if comment else "")
    return "\n".join(lines) + "\n"


def remove_table(text: str, table: str) -> str:
    lines = text.splitlines()
    span = _table_span(lines, table)
    if span is None:
        return text
    start, end = span
    return "\n".join(lines[:start] + lines[end:]) + "\n"
