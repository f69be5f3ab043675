"""bench/tcp_proxy.py: bytes pass both ways; a cut passes nothing and closes nothing; the restore delivers what
waited, in order; a connection opened during a cut is connected at the restore; a refused target closes it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from bench.tcp_proxy import CuttableProxy
from edge.demo.broker import free_port
from tests.plugins.waiting import wait_until


@pytest.fixture
def echo() -> Iterator[int]:
    """A loopback echo server; its port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join(5)
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_bytes_pass_both_ways(echo: int) -> None:
    with CuttableProxy(echo) as proxy, socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        client.sendall(b"hello")
        assert _recv_exactly(client, 5) == b"hello"
        assert proxy.counters.connections == 1
        assert wait_until(lambda: proxy.counters.bytes_forwarded == 10, 5), proxy.counters


def test_a_cut_passes_nothing_and_the_restore_delivers_in_order(echo: int) -> None:
    with CuttableProxy(echo) as proxy, socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        client.sendall(b"a")
        assert _recv_exactly(client, 1) == b"a"
        proxy.cut()
        client.sendall(b"bc")
        client.settimeout(0.5)
        with pytest.raises(TimeoutError):  # nothing comes back, and the connection is not closed either
            client.recv(10)
        assert proxy.counters.cuts == 1 and proxy.open_connections() == 1
        proxy.restore()
        client.settimeout(5)
        assert _recv_exactly(client, 2) == b"bc"


def test_a_connection_opened_during_a_cut_hangs_until_the_restore(echo: int) -> None:
    with CuttableProxy(echo) as proxy:
        proxy.cut()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
            client.sendall(b"late")
            assert wait_until(lambda: proxy.counters.connections == 1, 5)
            client.settimeout(0.3)
            with pytest.raises(TimeoutError):
                client.recv(10)
            proxy.restore()
            client.settimeout(5)
            assert _recv_exactly(client, 4) == b"late"


def test_a_refused_target_closes_the_client() -> None:
    with CuttableProxy(free_port()) as proxy, socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        assert client.recv(10) == b""  # closed, as a refused connect would be
        assert proxy.counters.upstream_failures == 1
