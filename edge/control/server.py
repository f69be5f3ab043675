"""The control socket server the node owns: `ControlServer(path, handlers, group)`.

One accepting thread, one thread per connection (at most MAX_CLIENTS), handlers run one at a time
(two technicians taring at once get one answer each, in turn). Whatever a client sends, the server
answers with an error line or closes that connection; it never stops serving. Every request is logged
with the caller's uid and pid (SO_PEERCRED): state-changing and refused ones at INFO / WARNING,
a read-only one at INFO the first time a caller process sends it, then at DEBUG (`shelf-node weights --watch`
asks twice a second, on a new connection each time).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import socket
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.control.handlers import Handler
from edge.control.peer import Peer, group_id, may_change_state, peer_of
from edge.control.protocol import (
    FAILED,
    FORBIDDEN,
    INTERNAL,
    INVALID_ARGS,
    MAX_LINE_BYTES,
    TOO_LARGE,
    UNKNOWN_COMMAND,
    ControlError,
    Request,
    as_json,
    encode_answer,
    parse_request,
    request_id_of,
)
from edge.errors import ShelfNodeError

log = logging.getLogger(__name__)

MAX_CLIENTS = 8
IDLE_TIMEOUT_S = 300.0  # a connection that sends nothing for this long is closed
MAX_LOGGED_READS = 256  # (caller pid, uid, read-only command) pairs remembered for the once-only INFO line
ACCEPT_POLL_S = 0.25
SOCKET_MODE = 0o660  # owner and the group only


@dataclass(frozen=True, slots=True)
class ControlStatus:
    path: str
    group: str | None
    clients: int
    requests: int
    refused: int  # malformed, unknown, forbidden or invalid requests
    internal_errors: int  # handler bugs (logged with their traceback)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "group": self.group, "clients": self.clients, "requests": self.requests,
                "refused": self.refused, "internal_errors": self.internal_errors}


class ControlServer:
    def __init__(self, path: Path, handlers: Mapping[str, Handler], group: str | None = "shelf-node",
                 mode: int = SOCKET_MODE) -> None:
        """`mode`: the socket file's permissions; the default lets only the owner and `group` connect at all.
        State-changing commands are checked per request in any case (root, the daemon's uid, the group)."""
        self.path = Path(path)
        self.mode = mode
        self.handlers = handlers
        self.group = group
        self._gid: int | None = None
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._accepting: threading.Thread | None = None
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        self._run_lock = threading.Lock()  # handlers run one at a time
        self._counts = {"requests": 0, "refused": 0, "internal": 0}
        # (pid, uid, cmd) of read-only requests already logged at INFO; bounded, oldest forgotten first
        self._logged_reads: collections.OrderedDict[tuple[int, int, str], None] = collections.OrderedDict()
        self._logged_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ControlServer:
        self._take_over_stale_socket()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            listener.bind(str(self.path))
        except OSError as exc:
            listener.close()
            raise ControlError("unreachable", f"cannot create the control socket {self.path}: "
                                              f"{exc.strerror or exc}; check that {self.path.parent} exists and "
                                              f"is writable (systemd: RuntimeDirectory=shelf-node)") from None
        self._restrict()
        listener.listen(MAX_CLIENTS)
        listener.settimeout(ACCEPT_POLL_S)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept_loop, name="control", daemon=True)
        self._accepting.start()
        log.info("control socket %s (state changes: root, uid %d and group %s)", self.path, os.geteuid(),
                 self.group if self._gid is not None else "-")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._accepting is not None:
            self._accepting.join(5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._clients_lock:
            for client in list(self._clients):
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def is_alive(self) -> bool:
        return self._accepting is not None and self._accepting.is_alive()

    def status(self) -> ControlStatus:
        with self._clients_lock:
            clients = len(self._clients)
        return ControlStatus(str(self.path), self.group, clients, self._counts["requests"], self._counts["refused"],
                             self._counts["internal"])

    def _take_over_stale_socket(self) -> None:
        """A socket file left by a killed daemon is removed; one a live daemon answers on is not."""
        try:
            mode = self.path.lstat().st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise ControlError("unreachable", f"{self.path} exists and is not a socket; remove it or choose "
                                              f"another --socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            probe.connect(str(self.path))
        except OSError as exc:
            if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                raise ControlError("unreachable", f"{self.path}: {exc.strerror}; another process owns it") from None
            self.path.unlink(missing_ok=True)
            log.info("removed the stale control socket %s (its daemon is gone)", self.path)
            return
        finally:
            probe.close()
        raise ControlError("unreachable", f"another daemon already answers on {self.path}; stop it first "
                                          f"(systemctl stop shelf-node) or use another --socket")

    def _restrict(self) -> None:
        if self.group is not None:
            self._gid = group_id(self.group)
            if self._gid is None:
                log.warning("control socket: group %r does not exist, so only root and uid %d may change state; "
                            "create it (scripts/install does) to let technicians tare and calibrate",
                            self.group, os.geteuid())
        try:
            if self._gid is not None:
                os.chown(self.path, -1, self._gid)
            os.chmod(self.path, self.mode)
        except OSError as exc:
            log.warning("control socket %s: cannot give it to group %s (%s); only its owner can use it",
                        self.path, self.group, exc.strerror or exc)

    # -- serving -----------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.warning("control socket: accept failed: %s", exc)
                self._stop.wait(ACCEPT_POLL_S)
                continue
            with self._clients_lock:
                busy = len(self._clients) >= MAX_CLIENTS
                if not busy:
                    self._clients.add(connection)
            if busy:
                self._send(connection, encode_answer(None, error=ControlError(
                    FAILED, f"busy: {MAX_CLIENTS} clients are connected; try again")))
                connection.close()
                continue
            threading.Thread(target=self._serve, args=(connection,), name="control-client", daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            peer = peer_of(connection)
            connection.settimeout(IDLE_TIMEOUT_S)
            buffered = b""
            while not self._stop.is_set():
                newline = buffered.find(b"\n")
                if newline < 0:
                    if len(buffered) > MAX_LINE_BYTES:
                        self._count("refused")
                        log.warning("control: %s sent a line over %d bytes; closing", peer.describe(), MAX_LINE_BYTES)
                        self._send(connection, encode_answer(None, error=ControlError(
                            TOO_LARGE, f"request line over {MAX_LINE_BYTES} bytes")))
                        return
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                    continue
                line, buffered = buffered[:newline], buffered[newline + 1:]
                if line.strip() and not self._send(connection, self.answer(line, peer)):
                    return
        except TimeoutError:
            return
        except OSError as exc:
            if not self._stop.is_set():
                log.debug("control: connection ended: %s", exc)
        finally:
            with self._clients_lock:
                self._clients.discard(connection)
            connection.close()

    @staticmethod
    def _send(connection: socket.socket, data: bytes) -> bool:
        try:
            connection.sendall(data)
        except OSError:
            return False
        return True

    def answer(self, line: bytes, peer: Peer) -> bytes:
        """The answer line to one request line from `peer` (never raises). Every request is logged with the
        caller's uid: state changes always at INFO, a read-only command at INFO the first time a caller process
        sends it and at DEBUG after that."""
        self._count("requests")
        try:
            request = parse_request(line)
        except ControlError as refusal:
            self._count("refused")
            log.warning("control: %s: refused a request: %s", peer.describe(), refusal.message)
            return encode_answer(request_id_of(line), error=refusal)
        try:
            result = self._run(request, peer)
        except ControlError as refusal:
            self._count("refused")
            log.warning("control: %s: %s refused (%s): %s", peer.describe(), request.cmd, refusal.code,
                        refusal.message)
            return encode_answer(request.id, error=refusal)
        return encode_answer(request.id, result)

    def _first_read(self, peer: Peer, cmd: str) -> bool:
        """True the first time this caller process sends this read-only command (remembered for the last
        MAX_LOGGED_READS callers and commands)."""
        key = (peer.pid, peer.uid, cmd)
        with self._logged_lock:
            if key in self._logged_reads:
                return False
            self._logged_reads[key] = None
            if len(self._logged_reads) > MAX_LOGGED_READS:
                self._logged_reads.popitem(last=False)
            return True

    def _run(self, request: Request, peer: Peer) -> Any:
        if request.cmd == "help":
            return self._help()
        handler = self.handlers.get(request.cmd)
        if handler is None:
            raise ControlError(UNKNOWN_COMMAND, f"unknown command {request.cmd!r}; known: "
                                                f"{', '.join(sorted([*self.handlers, 'help']))}")
        unknown = sorted(set(request.args) - set(handler.params))
        if unknown:
            allowed = f"it takes {', '.join(handler.params)}" if handler.params else "it takes no args"
            raise ControlError(INVALID_ARGS, f"unknown args {', '.join(map(repr, unknown))} for {request.cmd!r}; "
                                             f"{allowed}")
        if handler.changes_state:
            if not may_change_state(peer, self._gid):
                group = self.group if self._gid is not None else "(none configured)"
                raise ControlError(FORBIDDEN, f"{request.cmd!r} changes state: only root, the daemon's user and "
                                              f"members of group {group} may; ask an admin: "
                                              f"sudo usermod -aG {self.group or 'shelf-node'} $USER, then log in again")
            log.info("control: %s: %s %s", peer.describe(), request.cmd, request.args)
        elif self._first_read(peer, request.cmd):
            log.info("control: %s: %s %s (read-only; its repeats from this process at debug)", peer.describe(),
                     request.cmd, request.args)
        else:
            log.debug("control: %s: %s %s", peer.describe(), request.cmd, request.args)
        with self._run_lock:
            try:
                return as_json(handler.run(dict(request.args)))
            except ControlError:
                raise
            except ShelfNodeError as exc:
                raise ControlError(INVALID_ARGS if isinstance(exc, ValueError) else FAILED, str(exc)) from None
            except Exception as exc:  # a handler bug must not take the socket down: traceback logged, counted
                self._count("internal")
                log.exception("control: handler %r crashed", request.cmd)
                raise ControlError(INTERNAL, f"internal error in {request.cmd!r} ({type(exc).__name__}); "
                                             f"see the daemon log (journalctl -u shelf-node)") from None

    def _help(self) -> dict[str, Any]:
        return {"commands": [{"name": name, "changes_state": h.changes_state, "args": list(h.params),
                              "description": h.description} for name, h in sorted(self.handlers.items())]}

    def _count(self, key: str) -> None:
        with self._clients_lock:
            self._counts[key] += 1
