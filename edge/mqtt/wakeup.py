"""The link's network loop with a wake-up: paho's `loop()`, plus a socketpair any thread can poke.

paho's own `loop(timeout)` sleeps in select() on the broker socket until a packet comes or the timeout ends,
so an event committed to the outbox waited for the next timeout (up to 50 ms, docs/bench: the largest part
of the node's latency). `WakeableLoop.once()` selects on the broker socket and on a socketpair; `wake()`
(from the processing thread on an outbox append, the command worker with a response) writes one byte, and
the network thread publishes at once. It uses paho's documented external-loop calls (`socket`,
`want_write`, `loop_read`, `loop_write`, `loop_misc`) in the order `loop()` does.
"""

from __future__ import annotations

import contextlib
import select
import socket

import paho.mqtt.client as paho


class WakeableLoop:
    def __init__(self, client: paho.Client) -> None:
        self.client = client
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self.wakeups = 0  # wake-ups taken by once() (each may cover several wake() calls)

    def wake(self) -> None:
        """From any thread: end the current (or the next) `once()` wait now. Never blocks, never raises."""
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed (the link has stopped)
            self._write.send(b"\0")

    def once(self, timeout: float) -> paho.MQTTErrorCode:
        """One iteration of paho's loop(): wait up to `timeout` for the broker socket or a wake-up, then read,
        write and do the keepalive. Returns paho's error code (MQTT_ERR_SUCCESS while the connection lives)."""
        client = self.client
        sock = client.socket()
        if sock is None:
            return paho.MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if hasattr(sock, "pending") else 0  # bytes already decrypted (TLS)
        try:
            readable, writable, _ = select.select([sock, self._read], [sock] if client.want_write() else [], [],
                                                  0.0 if pending > 0 else timeout)
        except (OSError, ValueError, TypeError):  # the socket was closed under us: the connection is gone
            return paho.MQTTErrorCode.MQTT_ERR_CONN_LOST
        if sock in readable or pending > 0:
            rc = client.loop_read()
            if rc != paho.MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
                return rc if rc != paho.MQTTErrorCode.MQTT_ERR_SUCCESS else paho.MQTTErrorCode.MQTT_ERR_CONN_LOST
        if self._read in readable:
            self.wakeups += 1
            self._drain()
        if client.want_write() or sock in writable:
            rc = client.loop_write()
            if rc != paho.MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return client.loop_misc()

    def _drain(self) -> None:
        try:
            while self._read.recv(4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._read.close()
        self._write.close()
