"""Inbound commands: `<root>/cmd/<name>` with `{"transaction": ..., "params": {...}}` -> `<root>/resp/<name>`.

Handlers are plain callables `(params: dict) -> dict`, registered with the params keys they accept;
any other key is refused before the handler runs (a typo such as `plates` must not mean "every
plate"). Everything that can go wrong with a request (too large, not JSON, not an object, unknown
command or params, state change not allowed, handler error) becomes an error response with a code
from resp.json, and a log line; nothing propagates. The response echoes the request's
`transaction` whenever it could be read, so the hub knows which request to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.config.messages import is_secret_key
from edge.config.mqtt import MqttSection
from edge.config.root import NodeConfig
from edge.errors import ShelfNodeError
from edge.mqtt.envelope import response_payload
from edge.mqtt.validation import parse_json

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]
MAX_TRANSACTION_CHARS = 128


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    changes_state: bool
    description: str = ""
    params: tuple[str, ...] = ()  # the keys `params` may have; any other is refused


class CommandRegistry:
    """Named handlers plus the policy that guards them."""

    def __init__(self, allow_state_commands: bool = False, max_bytes: int = 16384) -> None:
        self.allow_state_commands = allow_state_commands
        self.max_bytes = max_bytes
        self._commands: dict[str, Command] = {}
        self.handled = 0
        self.errors = 0
        self.internal_errors = 0

    @classmethod
    def from_config(cls, section: MqttSection) -> CommandRegistry:
        return cls(allow_state_commands=section.allow_state_commands, max_bytes=section.max_command_bytes)

    def register(self, name: str, handler: Handler, changes_state: bool, description: str = "",
                 params: tuple[str, ...] = ()) -> None:
        """`params`: the keys the handler reads from params; a request with any other key is refused."""
        if not name or "/" in name or "+" in name or "#" in name:
            raise ValueError(f"command name {name!r} must be one MQTT topic level without wildcards")
        self._commands[name] = Command(name, handler, changes_state, description, tuple(params))

    def names(self) -> list[str]:
        return sorted(self._commands)

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "changes_state": c.changes_state, "description": c.description,
                 "params": list(c.params)} for c in sorted(self._commands.values(), key=lambda c: c.name)]

    def dispatch(self, name: str, payload: bytes) -> dict[str, Any]:
        """Run one request and return the response payload (never raises for bad input)."""
        self.handled += 1
        transaction: str | int | None = None
        try:
            request = self._load(payload)
            transaction = self._transaction(request)
            params = self._params(request)
            result = self._run(name, params)
        except _Refusal as refusal:
            self.errors += 1
            log.warning("command %r (transaction %r) refused: %s: %s", name[:64], transaction,
                        refusal.code, refusal.message)
            return response_payload(transaction, name, error=(refusal.code, refusal.message))
        return response_payload(transaction, name, result=result)

    def transaction_of(self, payload: bytes) -> str | int | None:
        """The request's transaction if it can be read, else None (for answers given without dispatch, e.g. busy)."""
        try:
            return self._transaction(self._load(payload))
        except _Refusal:
            return None

    def _load(self, payload: bytes) -> dict[str, Any]:
        """The request object; an empty payload is the empty request `{}`."""
        if len(payload) > self.max_bytes:
            raise _Refusal("too_large", f"payload is {len(payload)} bytes; the limit is {self.max_bytes} "
                                        f"(mqtt.max_command_bytes)")
        try:
            request = parse_json(payload) if payload else {}
        except ValueError as exc:
            raise _Refusal("malformed", f"payload is not JSON ({exc}); send "
                                        f'{{"transaction": "<id>", "params": {{...}}}}') from None
        if not isinstance(request, dict):
            raise _Refusal("malformed", f"payload must be a JSON object, got {type(request).__name__}")
        return request

    @staticmethod
    def _transaction(request: dict[str, Any]) -> str | int | None:
        transaction = request.get("transaction")
        valid_transaction = isinstance(transaction, str) and len(transaction) <= MAX_TRANSACTION_CHARS
        if transaction is not None and not valid_transaction and type(transaction) is not int:
            raise _Refusal("malformed", f"transaction must be a string of at most {MAX_TRANSACTION_CHARS} "
                                        f"characters or an integer")
        return transaction

    @staticmethod
    def _params(request: dict[str, Any]) -> dict[str, Any]:
        unknown_keys = sorted(set(request) - {"transaction", "params"})
        if unknown_keys:
            raise _Refusal("malformed", f"unknown request keys {unknown_keys}; only transaction and params")
        params = request.get("params", {})
        if not isinstance(params, dict):
            raise _Refusal("invalid_params", f"params must be a JSON object, got {type(params).__name__}")
        return params

    def _run(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        command = self._commands.get(name)
        if command is None:
            raise _Refusal("unknown_command", f"unknown command {name[:64]!r}; known: {', '.join(self.names())}")
        if command.changes_state and not self.allow_state_commands:
            raise _Refusal("refused", f"{name!r} changes state and [mqtt] allow_state_commands is false on "
                                      f"this node; run it locally or enable it in the node config")
        unknown = sorted(set(params) - set(command.params))
        if unknown:
            allowed = f"allowed: {', '.join(command.params)}" if command.params else f"{name!r} takes no params"
            raise _Refusal("invalid_params", f"unknown params key(s) {', '.join(map(repr, unknown))} for {name!r}; "
                                             f"{allowed}")
        try:
            result = command.handler(params)
        except ShelfNodeError as exc:
            raise _Refusal("invalid_params" if isinstance(exc, ValueError) else "failed", str(exc)) from None
        except Exception as exc:  # the command worker must survive a handler bug: log with traceback, count
            self.internal_errors += 1
            log.exception("command %r: handler crashed", name)
            raise _Refusal("failed", f"internal error in handler ({type(exc).__name__}); see the node log") from None
        if not isinstance(result, dict):
            self.internal_errors += 1
            log.error("command %r: handler returned %s instead of a dict", name, type(result).__name__)
            raise _Refusal("failed", "internal error: handler returned no result object; see the node log")
        return result


class _Refusal(Exception):
    """Internal control flow: an error response to send; never escapes dispatch()."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def redacted_config(config: NodeConfig) -> dict[str, Any]:
    """The effective configuration as JSON values, with every secret reference replaced."""
    return _redact(config.model_dump(mode="json"))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<redacted>" if v is not None and is_secret_key((k,)) else _redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value
