"""Typed commands for the live demo (`shelf-node sim run --interactive`), one per line:

    pick p1 [SKU] [COUNT]     a shopper takes an item now
    put p2 [SKU] [COUNT]      ... puts one back (default: the plate's own SKU, the unit last taken)
    unplug | replug           pull / reinsert the USB cable
    status                    true grams per plate
    help

Each answer is one line: the truth record as JSON, or `error: ...` saying what to type instead.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from edge.errors import ConfigError
from edge.sim.pty_shelf import PtyShelf

HELP = "commands: pick PLATE [SKU] [COUNT] | put PLATE [SKU] [COUNT] | unplug | replug | status | help"


def handle(shelf: PtyShelf, line: str) -> str:
    words = line.split()
    if not words:
        return ""
    verb, args = words[0].lower(), words[1:]
    if verb in {"pick", "put"}:
        if not 1 <= len(args) <= 3:
            return f"error: usage: {verb} PLATE [SKU] [COUNT]"
        count_text = args[2] if len(args) == 3 else "1"
        if not count_text.isdigit() or int(count_text) < 1:
            return f"error: COUNT must be a positive whole number, got {count_text!r}"
        sku = args[1] if len(args) >= 2 else None
        action = shelf.pick if verb == "pick" else shelf.put
        try:
            record = action(args[0], sku, int(count_text))
        except (ConfigError, ValidationError) as exc:
            return f"error: {str(exc).splitlines()[0]}"
        return record.to_json()
    if verb == "unplug":
        shelf.unplug()
        return "unplugged"
    if verb == "replug":
        shelf.replug()
        return f"replugged at {shelf.slave_path}"
    if verb == "status":
        return json.dumps({name: round(grams, 1) for name, grams in shelf.plate_grams().items()})
    if verb == "help":
        return HELP
    return f"error: unknown command {verb!r}; {HELP}"
