"""What the control server runs: named handlers, each `(args: dict) -> result` with the args keys it reads.

A result is a dict or a typed status record with `to_json()`. A handler raises a ShelfNodeError for a
refusal the caller can act on (ValueError-like ones answer `invalid_args`, the others `failed`).

`HandlerTable.register` has the signature of the MQTT CommandRegistry's, so the node's command set
(`NodeCommands.register(table)`) registers on the control socket unchanged; unlike on MQTT, state-changing
commands are allowed here for members of the socket's group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Run = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Handler:
    run: Run
    changes_state: bool = False
    params: tuple[str, ...] = ()  # args keys accepted; any other is refused before `run`
    description: str = ""


class HandlerTable(Mapping[str, Handler]):
    """A mutable name -> Handler map with the CommandRegistry `register` signature."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})

    def register(self, name: str, handler: Run, changes_state: bool, description: str = "",
                 params: tuple[str, ...] = ()) -> None:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"control command name {name!r} must be one word")
        self._handlers[name] = Handler(handler, changes_state, tuple(params), description)

    def add(self, name: str, handler: Handler) -> None:
        self._handlers[name] = handler

    def __getitem__(self, name: str) -> Handler:
        return self._handlers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)
