"""Events the outbox file refused (disk full, I/O error, `max_events` reached) wait here, in memory.

A bounded queue in production order; a retry thread stores them, oldest first, once the file takes
writes again, and new events queue behind them so the seq order stays the production order. When
the queue is full the oldest held event is dropped: it is counted as `lost` and its seq is burned
(skipped) when the file takes writes again, so the hub sees the gap where it would have been. An
event whose body can never be stored (not JSON) is lost the same way, at its place in the queue.
Held events are in memory only: a stop or a crash while the disk is full loses them (logged).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.errors import OutboxError

log = logging.getLogger(__name__)

MAX_HELD = 1000  # weight events are rare (a few per minute): this is hours of a full disk, about 1 MB
RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class Held:
    kind: str
    text: str  # the body, already JSON
    produced_at: float
    event_id: str | None = None  # fixed at submit, so what refers to the event can name it while it waits


Store = Callable[[Held], Any]  # raises OutboxError when the file refuses
Burn = Callable[[int], None]  # skip n seqs and count them lost; raises OutboxError when the file refuses


class Holding:
    def __init__(self, store: Store, burn: Burn, max_held: int = MAX_HELD, retry_s: float = RETRY_S) -> None:
        self._store = store
        self._burn = burn
        self.max_held = max_held
        self.retry_s = retry_s
        self._queue: deque[Held | None] = deque()  # None: a lost event's place (its seq is burned there)
        self._burn_first = 0  # lost events older than everything queued
        self._markers = 0  # None entries in the queue; kept as counts so status() never iterates the deque
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> int:
        return len(self._queue) - self._markers

    @property
    def unrecorded_losses(self) -> int:
        """Lost events whose seqs are not burned in the file yet."""
        return self._burn_first + self._markers

    @property
    def empty(self) -> bool:
        return not self._queue and self._burn_first == 0

    def submit(self, entry: Held | None, refusal: OutboxError | None) -> None:
        """Queue `entry` (None = a lost event) behind what is held; `refusal` is why the file said no."""
        with self._lock:
            if self.empty and refusal is not None:
                log.error("outbox refused an event: %s; holding events in memory (up to %d) and retrying every "
                          "%g s", refusal, self.max_held, self.retry_s)
            self._queue.append(entry)
            self._markers += entry is None
            while len(self._queue) > self.max_held:
                dropped = self._queue.popleft()
                self._markers -= dropped is None
                self._burn_first += 1
                if dropped is not None:
                    log.error("event LOST: %d events already held in memory while the outbox refuses writes; "
                              "the oldest (%s at %.3f) is dropped and its seq will be skipped", self.max_held,
                              dropped.kind, dropped.produced_at)
            self._start_retrying()

    def flush(self) -> bool:
        """Store what is held, oldest first; True when nothing is left. Stops at the first refusal."""
        with self._lock:
            stored = 0
            try:
                if self._burn_first:
                    self._burn(self._burn_first)
                    self._burn_first = 0
                while self._queue:
                    entry = self._queue[0]
                    if entry is None:
                        self._burn(1)
                    else:
                        self._store(entry)
                        stored += 1
                    self._queue.popleft()
                    self._markers -= entry is None
            except OutboxError as exc:
                log.debug("outbox still refuses writes: %s", exc)
                return False
            finally:
                if stored:
                    log.warning("outbox takes writes again: stored %d held event(s)", stored)
            return True

    def close(self) -> None:
        """Stop retrying; one last attempt to store what is held, and say what is lost."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        if not self.empty and not self.flush():
            log.error("outbox: %d held event(s) LOST at stop (the file still refuses writes); %d lost seq(s) could "
                      "not be recorded", self.held, self.unrecorded_losses)

    def _start_retrying(self) -> None:
        """Under the lock: one retry thread while anything is held; it clears `_thread` when it ends."""
        if self._closed or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._retry, name="outbox-retry", daemon=True)
        self._thread.start()

    def _retry(self) -> None:
        while True:
            self._wake.wait(self.retry_s)
            if self._closed:
                return
            if self.flush():
                with self._lock:
                    if self.empty:
                        self._thread = None
                        return
