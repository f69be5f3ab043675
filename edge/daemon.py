"""Process lifecycle: signals, sd_notify READY/STOPPING, the systemd watchdog.

The watchdog is pinged only while `node.healthy()` holds (its worker threads are alive and
their heartbeats fresh), so a wedged pipeline gets the service restarted by systemd instead
of lingering. A lost serial port is NOT unhealthy: the reader reconnects by itself.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Protocol

from edge import systemd

log = logging.getLogger(__name__)


class Supervised(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def healthy(self) -> bool: ...
    def status_line(self) -> str: ...
    def failed(self) -> str | None: ...


def run_until_signalled(node: Supervised, stop: threading.Event | None = None, tick_s: float = 0.5) -> int:
    """Start `node`, report READY, ping the watchdog while healthy, stop cleanly on SIGTERM/SIGINT; SIGHUP
    re-reads the config and planogram files when the node can (`node.reload()`, edge/control/reload.py)."""
    stop = stop or threading.Event()
    reload_asked = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signals can only be caught there
        previous = {sig: signal.signal(sig, lambda signum, _frame: _request_stop(stop, signum))
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda signum, _frame: reload_asked.set())
    try:
        node.start()
        systemd.notify("READY=1")
        log.info("shelf-node running: %s", node.status_line())
        watchdog_every = systemd.watchdog_interval_s()
        last_ping = last_status = 0.0
        exit_code = 0
        while not stop.wait(min(tick_s, watchdog_every or tick_s)):
            failure = node.failed()
            if failure:
                log.error("shelf-node cannot go on: %s; exiting so systemd restarts it", failure)
                exit_code = 1
                break
            if reload_asked.is_set():
                reload_asked.clear()
                _reload(node)
            now = time.monotonic()
            healthy = node.healthy()
            if watchdog_every and healthy and now - last_ping >= watchdog_every:
                systemd.notify("WATCHDOG=1")
                last_ping = now
            if now - last_status >= 10:
                systemd.notify(f"STATUS={node.status_line()}")
                last_status = now
        systemd.notify("STOPPING=1")
        log.info("stopping")
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _reload(node: Supervised) -> None:
    reload = getattr(node, "reload", None)
    if reload is None:
        log.warning("received SIGHUP: this node cannot reload; restart it to apply a new config")
        return
    log.info("received SIGHUP: re-reading the config and planogram files")
    systemd.notify("RELOADING=1")
    reload()
    systemd.notify("READY=1")


def _request_stop(stop: threading.Event, signum: int) -> None:
    log.info("received %s", signal.Signals(signum).name)
    stop.set()
