"""systemd integration without libsystemd: sd_notify over $NOTIFY_SOCKET and the watchdog interval.

Outside systemd (no $NOTIFY_SOCKET) every call is a no-op that returns False, so the daemon
runs the same under a terminal, a test or the unit.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)
_unreachable: set[str] = set()  # sockets already warned about


def notify(state: str) -> bool:
    """Send e.g. 'READY=1', 'WATCHDOG=1', 'STATUS=...', 'STOPPING=1'. True if sent.

    A $NOTIFY_SOCKET that cannot be reached (a stale variable inherited from another service, a
    manager that went away) is logged once and never stops the daemon: systemd then sees no READY or
    watchdog pings and acts on that, which is its job."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError as exc:
        if address not in _unreachable:
            _unreachable.add(address)
            log.warning("cannot notify systemd at NOTIFY_SOCKET=%s (%s); going on without it",
                        os.environ.get("NOTIFY_SOCKET"), exc.strerror or exc)
        return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of WatchdogSec= when the watchdog is enabled for this process, else None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.05)
    except ValueError:
        return None
