"""`cmd/review_answer` params -> a ReviewAnswer, or a CommandError saying what is wrong and how to fix it.

    {"event_id": "6f0c...", "action": "pick", "lines": [{"sku": "APPLE-GS", "count": 1, "plate": "p3"}],
     "reviewer": "anna"}

`event_id` is the item event's (the envelope's `event_id`), `lines` what really moved (an empty list: no
product moved, e.g. a bump), `action` optional (default: the event's own), `reviewer` optional. Whether the
event and the SKUs are known is checked against the node's own records (edge/gallery/answers.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from edge.errors import CommandError
from edge.gallery.records import Line, ReviewAnswer

PARAMS = ("event_id", "action", "lines", "reviewer")
ACTIONS = ("pick", "put", "restock")
MAX_LINES = 12
MAX_COUNT = 24  # as fusion's maintenance-mode hypotheses
EVENT_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
LINE_KEYS = ("sku", "count", "plate")


def parse_answer(params: Mapping[str, Any]) -> ReviewAnswer:
    event_id = params.get("event_id")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise CommandError(f"params.event_id must be the item event's event_id (a UUID string from its envelope), "
                           f"got {_shown(event_id)}")
    action = params.get("action")
    if action is not None and action not in ACTIONS:
        raise CommandError(f"params.action must be one of {', '.join(ACTIONS)} (or left out for the event's own "
                           f"action), got {_shown(action)}")
    if "lines" not in params:
        raise CommandError("params.lines is required: what really moved, [{\"sku\": ..., \"count\": ...}], "
                           "or [] when no product moved")
    lines = _lines(params["lines"])
    reviewer = params.get("reviewer")
    if reviewer is not None and (not isinstance(reviewer, str) or not 0 < len(reviewer) <= 64):
        raise CommandError(f"params.reviewer must be a name of 1 to 64 characters, got {_shown(reviewer)}")
    return ReviewAnswer(event_id.lower(), action, lines, reviewer)


def _lines(raw: Any) -> tuple[Line, ...]:
    if not isinstance(raw, list):
        raise CommandError(f"params.lines must be a list of {{\"sku\", \"count\"[, \"plate\"]}} objects, "
                           f"got {type(raw).__name__}")
    if len(raw) > MAX_LINES:
        raise CommandError(f"params.lines has {len(raw)} lines; at most {MAX_LINES}")
    lines: list[Line] = []
    for index, line in enumerate(raw):
        where = f"params.lines[{index}]"
        if not isinstance(line, dict):
            raise CommandError(f"{where} must be an object {{\"sku\", \"count\"[, \"plate\"]}}, got {_shown(line)}")
        unknown = sorted(set(line) - set(LINE_KEYS))
        if unknown:
            raise CommandError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; a line takes "
                               f"{', '.join(LINE_KEYS)}")
        sku, count, plate = line.get("sku"), line.get("count"), line.get("plate")
        if not isinstance(sku, str) or not sku:
            raise CommandError(f"{where}.sku must be a SKU of the planogram's catalogue, got {_shown(sku)}")
        if type(count) is float and count.is_integer():  # JSON has one number type: 1.0 is 1 (as the schema says)
            count = int(count)
        if type(count) is not int or not 1 <= count <= MAX_COUNT:
            raise CommandError(f"{where}.count must be a whole number from 1 to {MAX_COUNT}, got {_shown(count)}")
        if plate is not None and not isinstance(plate, str):
            raise CommandError(f"{where}.plate must be a plate name of the event, got {_shown(plate)}")
        if any(other[0] == sku and other[2] == plate for other in lines):
            raise CommandError(f"{where}: {sku!r} is listed twice{'' if plate is None else f' on {plate}'}; "
                               f"give one line with the total count")
        lines.append((sku, count, plate))
    return tuple(lines)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
