"""Messages from the hub: commands and the planogram, handled on one worker thread, off the network loop.

Handlers may block (tare waits for a stable plate), so they never run on the MQTT network
thread. The queue is bounded: when it is full the request gets a `busy` response at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from edge.errors import ConfigError, ShelfNodeError
from edge.mqtt.commands import CommandRegistry
from edge.mqtt.envelope import response_payload
from edge.planogram import Planogram, PlanogramStore, PlanogramTooLarge, parse_planogram, succession_problem

log = logging.getLogger(__name__)

MAX_QUEUED = 8
PLANOGRAM = "planogram"

Respond = Callable[[str, dict[str, Any]], None]  # (command name, response payload)


class Inbound:
    def __init__(self, registry: CommandRegistry, store: PlanogramStore,
                 on_planogram: Callable[[Planogram], None], respond: Respond) -> None:
        self.registry = registry
        self.store = store
        self.on_planogram = on_planogram
        self.respond = respond
        self.current: Planogram | None = None
        self.planogram_errors = 0
        self.internal_errors = 0
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=MAX_QUEUED)
        self._thread = threading.Thread(target=self._work, name="mqtt-inbound", daemon=True)
        self._stopping = False

    def start(self) -> None:
        """Apply the persisted planogram (if any and valid), then start the worker."""
        try:
            persisted = self.store.load()
        except ConfigError as exc:
            log.error("persisted planogram %s ignored: %s; the hub's retained planogram will replace it",
                      self.store.path, exc)
            persisted = None
        if persisted is not None:
            try:
                self.on_planogram(persisted)
                self.current = persisted
                log.info("planogram %s v%d restored from %s", persisted.id, persisted.version, self.store.path)
            except ShelfNodeError as exc:
                log.error("persisted planogram %s refused by the pipeline: %s", self.store.path, exc)
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Handle what is queued, then end; a request arriving meanwhile is answered `busy`."""
        self._stopping = True
        if self._thread.is_alive():
            try:
                self._queue.put(None, timeout=5)
            except queue.Full:
                log.warning("inbound worker still busy at stop; leaving it (daemon thread)")
                return
            self._thread.join(timeout=5)

    def submit(self, name: str, payload: bytes) -> None:
        """Called on the network thread: queue the request or answer `busy`."""
        if self._stopping:
            self.registry.errors += 1
            self.respond(name, response_payload(self.registry.transaction_of(payload), name, error=(
                "busy", "the node is stopping; retry when its status is online again")))
            return
        try:
            self._queue.put_nowait((name, payload))
        except queue.Full:
            self.registry.errors += 1
            log.warning("command %r refused: %d requests already queued", name[:64], MAX_QUEUED)
            self.respond(name, response_payload(self.registry.transaction_of(payload), name, error=(
                "busy", "the node is still handling earlier commands; retry in a few seconds")))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            name, payload = item
            try:
                response = self.apply_planogram(payload) if name == PLANOGRAM else self.registry.dispatch(
                    name, payload)
                self.respond(name, response)
            except Exception:  # the worker must outlive any bug: log with traceback, count in health
                self.internal_errors += 1
                log.exception("inbound %r: unexpected error", name[:64])

    def apply_planogram(self, payload: bytes) -> dict[str, Any]:
        """Validate whole, persist atomically, hand to the pipeline; on any failure the old one stays."""
        if not payload:
            return self._planogram_refused("invalid_params", "empty planogram (retained message cleared?); "
                                                             "the current planogram stays")
        try:
            planogram = parse_planogram(payload, self.store.plate_names)
        except PlanogramTooLarge as exc:
            return self._planogram_refused("too_large", str(exc)[:2000])
        except ConfigError as exc:
            return self._planogram_refused("invalid_params", str(exc)[:2000])
        summary = {"id": planogram.id, "version": planogram.version}
        if planogram == self.current:
            return response_payload(None, PLANOGRAM, result={**summary, "applied": False, "unchanged": True})
        out_of_order = succession_problem(self.current, planogram)
        if out_of_order is not None:
            return self._planogram_refused("refused", out_of_order)
        previous = self.current
        try:
            self.store.save(planogram)
        except OSError as exc:
            return self._planogram_refused("failed", f"cannot persist planogram to {self.store.path}: {exc}")
        try:
            self.on_planogram(planogram)
        except ShelfNodeError as exc:
            self._restore(previous)
            return self._planogram_refused("refused", f"pipeline refused the planogram: {exc}")
        except Exception as exc:  # a consumer bug: keep the old planogram on disk, log with traceback, count
            self.internal_errors += 1
            log.exception("planogram consumer crashed")
            self._restore(previous)
            return self._planogram_refused("failed", f"internal error applying the planogram "
                                                     f"({type(exc).__name__}); see the node log")
        self.current = planogram
        log.info("planogram %s v%d applied and persisted", planogram.id, planogram.version)
        return response_payload(None, PLANOGRAM, result={**summary, "applied": True, "unchanged": False})

    def _restore(self, previous: Planogram | None) -> None:
        try:
            if previous is None:
                self.store.path.unlink(missing_ok=True)
            else:
                self.store.save(previous)
        except OSError as exc:
            log.error("could not restore the previous planogram file %s: %s", self.store.path, exc)

    def _planogram_refused(self, code: str, message: str) -> dict[str, Any]:
        self.planogram_errors += 1
        log.warning("planogram refused (%s): %s", code, message)
        return response_payload(None, PLANOGRAM, error=(code, message))
