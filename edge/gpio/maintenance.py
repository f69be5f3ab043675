"""Maintenance (restock) mode: one switch the button, the control socket and the node share. While it is
on, weight changes are restocks, not sales."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class MaintenanceMode:
    def __init__(self) -> None:
        self._on = False
        self._lock = threading.Lock()
        self.changes = 0

    @property
    def on(self) -> bool:
        return self._on

    def set(self, on: bool, by: str) -> bool:
        with self._lock:
            if on != self._on:
                self._on = on
                self.changes += 1
                log.info("maintenance mode %s (%s): weight changes are %s", "ON" if on else "off", by,
                         "restocks, not sales" if on else "sales again")
            return self._on

    def toggle(self, by: str) -> bool:
        with self._lock:
            target = not self._on
        return self.set(target, by)
