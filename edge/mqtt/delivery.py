"""Outbox -> broker delivery bookkeeping: the in-flight window, replay rate, acks and rejections.

No paho here: the link asks `due()` for rows to publish, reports each publish's mid, and
reports PUBACKs. Rows are handed out strictly in seq order and each exactly once per process
(paho itself re-sends its unacknowledged messages, in order, after a reconnect); a process
restart starts again from the oldest row still in the outbox. Acknowledged rows are deleted in
batches: a crash before the batch commits only means those events are sent again (same event_id).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edge.errors import OutboxError
from edge.outbox.store import Outbox, OutboxRow

FLUSH_INTERVAL_S = 0.05
FLUSH_RETRY_S = 1.0  # after the file refused a delete (disk full): acked rows wait in memory this long


class TokenBucket:
    """At most `rate` items per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Delivery:
    """Tracks which outbox rows are with paho (by mid) and which were acknowledged."""

    def __init__(self, outbox: Outbox, window: int, replay_rate: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox = outbox
        self.window = window
        self.replay = TokenBucket(replay_rate, burst=window, clock=clock)
        self._clock = clock
        self._inflight: dict[int, int] = {}  # paho mid -> seq
        self._last_handed_out = 0
        self._acked: list[int] = []
        self._last_flush = clock()
        self._retry_at = 0.0
        self.published = 0
        self.acked = 0
        self.rejected = 0
        self.highest_acked_seq = 0

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def due(self, connected_at_wall: float) -> list[tuple[OutboxRow, bool]]:
        """Rows to publish now, each with its `historical` flag, oldest first, within window and rate."""
        room = self.window - len(self._inflight)
        if room <= 0:
            return []
        rows = self.outbox.pending_after(self._last_handed_out, room)
        due: list[tuple[OutboxRow, bool]] = []
        for row in rows:
            historical = row.produced_at < connected_at_wall
            if historical and not self.replay.take():
                break  # later rows must wait too: never let a later seq overtake an earlier one
            due.append((row, historical))
        return due

    def handed_out(self, row: OutboxRow, mid: int) -> None:
        self._inflight[mid] = row.seq
        self._last_handed_out = row.seq
        self.published += 1

    def is_event(self, mid: int) -> bool:
        return mid in self._inflight

    def acknowledged(self, mid: int) -> int | None:
        """PUBACK for `mid`: returns its seq (None if the mid was not an event)."""
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            self._acked.append(seq)
            self.acked += 1
            self.highest_acked_seq = max(self.highest_acked_seq, seq)
        return seq

    def refused(self, mid: int, reason: str) -> int | None:
        """Negative PUBACK (MQTT 5 reason >= 0x80): keep the row as rejected, never as delivered."""
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            self.outbox.mark_rejected(seq, reason)
            self.rejected += 1
        return seq

    def flush(self, force: bool = False) -> int:
        """Delete acknowledged rows, at most every FLUSH_INTERVAL_S unless forced or a window's worth waits.

        Raises OutboxError when the file refuses; the rows stay acknowledged in memory (never re-sent by
        this process) and the next unforced try waits FLUSH_RETRY_S.
        """
        now = self._clock()
        if not self._acked:
            return 0
        if not force and (now < self._retry_at or (len(self._acked) < self.window
                                                     and now - self._last_flush < FLUSH_INTERVAL_S)):
            return 0
        batch, self._acked = self._acked, []
        self._last_flush = now
        try:
            return self.outbox.mark_delivered(batch)
        except OutboxError:
            self._acked = batch + self._acked  # try again later; they stay pending in the file until then
            self._retry_at = now + FLUSH_RETRY_S
            raise
