"""The CLI's side of the control socket: connect, send requests, read answers (docs/control-socket.md)."""

from __future__ import annotations

import errno
import itertools
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from edge.control.protocol import DEFAULT_SOCKET, ControlError, encode_request, parse_answer

SOCKET_ENV = "SHELF_NODE_SOCKET"
MAX_ANSWER_BYTES = 16_000_000  # a base64 camera snapshot fits


def default_socket() -> Path:
    return Path(os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET)


class DaemonNotRunning(ControlError):
    """No daemon answers on the socket (it is stopped, or the path is wrong)."""

    def __init__(self, message: str) -> None:
        super().__init__("unreachable", message)


class ControlClient:
    """One connection to the daemon; `request()` may be called many times. Use as a context manager."""

    def __init__(self, path: Path | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_socket()
        self.timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._ids = itertools.count(1)

    def connect(self) -> ControlClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise self._unreachable(exc) from None
        self._sock = sock
        return self

    def _unreachable(self, exc: OSError) -> ControlError:
        if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
            return DaemonNotRunning(f"the daemon is not running (no answer on {self.path}); start it "
                                    f"(systemctl start shelf-node) or give its --socket")
        if exc.errno == errno.EACCES:
            return ControlError("forbidden", f"no permission to use {self.path}: join the shelf-node group "
                                             f"(sudo usermod -aG shelf-node $USER, then log in again) or use sudo")
        return ControlError("unreachable", f"cannot connect to {self.path}: {exc.strerror or exc}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> ControlClient:
        return self.connect() if self._sock is None else self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def request(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        """The result of `cmd`; ControlError with the daemon's code and message for an error answer."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        request_id = next(self._ids)
        try:
            self._sock.sendall(encode_request(cmd, args, request_id))
            answer = parse_answer(self._read_line())
        except TimeoutError:
            raise ControlError("unreachable", f"the daemon did not answer {cmd!r} within {self.timeout_s:g} s "
                                              f"on {self.path}; is it wedged? (journalctl -u shelf-node)") from None
        except OSError as exc:
            raise ControlError("unreachable", f"the connection to the daemon broke ({exc.strerror or exc}); "
                                              f"did it restart? try again") from None
        if answer.get("ok"):
            return answer.get("result")
        error = answer.get("error") or {}
        raise ControlError(str(error.get("code", "failed")), str(error.get("message", "the daemon refused")))

    def _read_line(self) -> bytes:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionResetError(errno.ECONNRESET, "the daemon closed the connection")
            self._buffer += chunk
            if len(self._buffer) > MAX_ANSWER_BYTES:
                raise ControlError("malformed", "the daemon's answer is too long")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line


def request_once(cmd: str, args: dict[str, Any] | None = None, path: Path | None = None,
                 timeout_s: float = 30.0) -> Any:
    with ControlClient(path, timeout_s) as client:
        return client.request(cmd, args)
