"""A TCP proxy on a free loopback port that the soak can cut: the network between a node and its broker.

    proxy = CuttableProxy(target_port=broker.port).start()   # the node connects to proxy.port
    proxy.cut()       # the cable is cut: nothing passes either way, new connections hang
    proxy.restore()   # bytes flow again (TCP would retransmit); what timed out meanwhile is closed
    proxy.stop()

A cut is a black hole, not a reset: no byte is forwarded and no connection is closed by the proxy, so
each side finds out only through its own timeouts (the MQTT keepalive), as with a pulled uplink. Bytes in
flight stay in the kernel's buffers and are delivered after the restore, in order. Loopback only.
"""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass

from edge.demo.broker import free_port

CHUNK = 65536


@dataclass
class ProxyCounters:
    connections: int = 0  # accepted from clients
    upstream_failures: int = 0  # the target refused (broker down): the client is closed, as a refused connect
    cuts: int = 0
    bytes_forwarded: int = 0


class CuttableProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.target_port = target_port
        self.port = port or free_port()
        self.counters = ProxyCounters()
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: dict[socket.socket, socket.socket] = {}  # each side -> its peer
        self._waiting: list[socket.socket] = []  # accepted during a cut: connected upstream at the restore
        self._listener = socket.create_server((host, self.port), reuse_port=False)
        self._listener.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)

    @property
    def is_cut(self) -> bool:
        return self._cut.is_set()

    def start(self) -> CuttableProxy:
        self._thread.start()
        return self

    def cut(self) -> None:
        if not self._cut.is_set():
            self.counters.cuts += 1
        self._cut.set()

    def restore(self) -> None:
        self._cut.clear()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs) // 2 + len(self._waiting)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        with self._lock:
            for sock in list(self._pairs) + self._waiting:
                sock.close()
            self._pairs.clear()
            self._waiting.clear()
        self._listener.close()

    def __enter__(self) -> CuttableProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        watched: set[socket.socket] = set()
        while not self._stop.is_set():
            cut = self._cut.is_set()
            with self._lock:
                if not cut and self._waiting:
                    waiting, self._waiting = self._waiting, []
                    for client in waiting:
                        self._connect_upstream(client)
                wanted = set() if cut else set(self._pairs)
            for sock in watched - wanted:
                if sock.fileno() >= 0:
                    selector.unregister(sock)
            for sock in wanted - watched:
                selector.register(sock, selectors.EVENT_READ)
            watched = wanted
            for key, _ in selector.select(timeout=0.05):
                ready = key.fileobj
                if not isinstance(ready, socket.socket):
                    continue
                sock = ready
                if sock is self._listener:
                    self._accept()
                elif sock not in watched:
                    continue  # closed with its peer earlier in this batch (both sides ended at once)
                elif not self._cut.is_set() and not self._pump(sock):
                    selector.unregister(sock)
                    watched.discard(sock)
                    peer = self._close_pair(sock)
                    if peer is not None and peer in watched:
                        selector.unregister(peer)
                        watched.discard(peer)
        selector.close()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        self.counters.connections += 1
        with self._lock:
            if self._cut.is_set():
                self._waiting.append(client)
            else:
                self._connect_upstream(client)

    def _connect_upstream(self, client: socket.socket) -> None:
        """Called with the lock held."""
        try:
            upstream = socket.create_connection((self.host, self.target_port), timeout=2.0)
        except OSError:
            self.counters.upstream_failures += 1
            client.close()
            return
        for sock in (client, upstream):
            sock.settimeout(5.0)  # sendall to a loopback peer that stopped reading: give up, close the pair
        self._pairs[client], self._pairs[upstream] = upstream, client

    def _pump(self, sock: socket.socket) -> bool:
        """Forward what `sock` has to its peer; False when the pair is done (EOF or an error)."""
        with self._lock:
            peer = self._pairs.get(sock)
        if peer is None:
            return False
        try:
            data = sock.recv(CHUNK)
            if not data:
                return False
            peer.sendall(data)
        except OSError:
            return False
        self.counters.bytes_forwarded += len(data)
        return True

    def _close_pair(self, sock: socket.socket) -> socket.socket | None:
        with self._lock:
            peer = self._pairs.pop(sock, None)
            if peer is not None:
                self._pairs.pop(peer, None)
        for each in (sock, peer):
            if each is not None:
                each.close()
        return peer
