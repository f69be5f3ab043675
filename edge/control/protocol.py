"""The control socket's wire format: JSON lines (docs/control-socket.md).

    request   {"cmd": "tare", "args": {"plate": "p1"}, "id": 7}      (args and id optional)
    answer    {"id": 7, "ok": true, "result": {...}}
              {"id": 7, "ok": false, "error": {"code": "forbidden", "message": "..."}}

One request per line, one answer per line, in order, on a connection the client may keep open.
A line is at most MAX_LINE_BYTES; JSON is strict (NaN and Infinity are malformed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import ShelfNodeError

DEFAULT_SOCKET = Path("/run/shelf-node/control.sock")  # RuntimeDirectory=shelf-node
MAX_LINE_BYTES = 65536
MAX_ID_CHARS = 128

# Error codes (the `code` of an error answer)
MALFORMED = "malformed"  # not one JSON object with a string `cmd`
TOO_LARGE = "too_large"
UNKNOWN_COMMAND = "unknown_command"
INVALID_ARGS = "invalid_args"  # unknown args keys or values the handler refuses
FORBIDDEN = "forbidden"  # a state-changing command from a caller outside the group
FAILED = "failed"  # the handler could not do it (not stable, disk full, ...)
INTERNAL = "internal"  # a handler bug; the daemon logs the traceback and goes on


class ControlError(ShelfNodeError):
    """An error answer from the daemon, or a request that could not be made; `code` is one of the codes above
    (or `unreachable` when no daemon answered)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | int | None = None


def _refuse_constant(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def parse_request(line: bytes) -> Request:
    """One request line; ControlError(MALFORMED or TOO_LARGE) saying what to send instead."""
    if len(line) > MAX_LINE_BYTES:
        raise ControlError(TOO_LARGE, f"request is {len(line)} bytes; the limit is {MAX_LINE_BYTES}")
    try:
        data = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:  # a few KB of '[' under the line limit
        raise ControlError(MALFORMED, 'request is nested too deeply; send {"cmd": "status"}') from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError(MALFORMED, f"request is not one line of JSON ({exc}); send "
                                      f'{{"cmd": "status"}}') from None
    if not isinstance(data, dict):
        raise ControlError(MALFORMED, f"request must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"cmd", "args", "id"})
    if unknown:
        raise ControlError(MALFORMED, f"unknown request keys {unknown}; a request has cmd, args and id")
    cmd, args, request_id = data.get("cmd"), data.get("args", {}), data.get("id")
    if not isinstance(cmd, str) or not cmd:
        raise ControlError(MALFORMED, 'request needs "cmd": a command name string, e.g. {"cmd": "help"}')
    if not isinstance(args, dict):
        raise ControlError(INVALID_ARGS, f"args must be a JSON object, got {type(args).__name__}")
    if request_id is not None and not _is_request_id(request_id):
        raise ControlError(MALFORMED, f"id must be an integer or a string of at most {MAX_ID_CHARS} characters")
    return Request(cmd[:64], args, request_id)


def request_id_of(line: bytes) -> str | int | None:
    """The id of a request that was refused, when it can be read (so the client can match the answer)."""
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    candidate = data.get("id") if isinstance(data, dict) else None
    return candidate if _is_request_id(candidate) else None


def _is_request_id(value: Any) -> bool:
    """An integer (not a bool) or a string of at most MAX_ID_CHARS characters."""
    return type(value) is int or (isinstance(value, str) and len(value) <= MAX_ID_CHARS)


def encode_request(cmd: str, args: dict[str, Any] | None = None, request_id: str | int | None = None) -> bytes:
    message: dict[str, Any] = {"cmd": cmd, "args": args or {}}
    if request_id is not None:
        message["id"] = request_id
    return json.dumps(message, allow_nan=False).encode("utf-8") + b"\n"


def encode_answer(request_id: str | int | None, result: Any = None, error: ControlError | None = None) -> bytes:
    """One answer line. `result` is plain JSON already: the server made it so with `as_json()` while running
    the handler (where a TypeError counts as a handler bug)."""
    if error is not None:
        answer: dict[str, Any] = {"id": request_id, "ok": False,
                                  "error": {"code": error.code, "message": error.message}}
    else:
        answer = {"id": request_id, "ok": True, "result": result}
    return json.dumps(answer, allow_nan=False, separators=(",", ":")).encode("utf-8") + b"\n"


def as_json(value: Any) -> Any:
    """Plain JSON values from a handler's result: `to_json()` records, dicts, lists, tuples, paths, numbers.
    TypeError for anything else (a handler bug, answered as `internal`)."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return as_json(to_json())
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value and has no to_json()")


def parse_answer(line: bytes) -> dict[str, Any]:
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError(MALFORMED, f"the daemon's answer is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        raise ControlError(MALFORMED, "the daemon's answer is not a control-socket answer object")
    return data
