"""Health that tells the truth: per-part error rates over a sliding window, so a detector that raises on
every frame or a link that crash-loops makes the node `degraded` (with reasons), not "healthy because its
threads are alive". Pure: the node feeds cumulative error counters with the time; the verdict is a Health.

Only a part that keeps failing for its `fatal_after_s` (one that cannot recover by itself) turns the verdict
into `fault`, which is what stops the systemd watchdog and gets the service restarted; every other rate
only degrades.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.control.report import Health


@dataclass(frozen=True, slots=True)
class RateRule:
    max_per_window: int  # more errors than this within the window: degraded
    fatal_after_s: float | None = None  # degraded this long and still failing: fault (restart); None: never


DEFAULT_RULES: dict[str, RateRule] = {
    # failing on every frame for 2 min: a wedged runtime or a model that no longer loads; a restart reloads it
    "detector": RateRule(10, fatal_after_s=120.0),
    "camera": RateRule(3),
    "serial": RateRule(30),  # bad lines on a noisy cable; the reader reconnects by itself
    "link": RateRule(5),  # the outbox keeps the events while the link crash-loops
    "fusion": RateRule(5),
    "processing": RateRule(0, fatal_after_s=30.0),  # the weighing pipeline itself: nothing else can redo it
}


STILL_FAILING_S = 10.0  # a fatal part must have failed this recently: a burst that ended only degrades


class ErrorRates:
    def __init__(self, rules: Mapping[str, RateRule] | None = None, window_s: float = 60.0) -> None:
        self.rules = dict(DEFAULT_RULES if rules is None else rules)
        self.window_s = window_s
        self._samples: dict[str, collections.deque[tuple[float, int]]] = {p: collections.deque() for p in self.rules}
        self._degraded_since: dict[str, float] = {}
        self._last_error_at: dict[str, float] = {}

    def observe(self, t: float, errors: Mapping[str, int]) -> None:
        """Cumulative error counters per part at time `t` (parts not in the rules are ignored)."""
        for part, count in errors.items():
            samples = self._samples.get(part)
            if samples is None:
                continue
            if samples and count > samples[-1][1]:
                self._last_error_at[part] = t
            samples.append((t, count))
            while len(samples) > 1 and samples[1][0] <= t - self.window_s:
                samples.popleft()

    def recent(self, part: str) -> int:
        """Errors of `part` within the window (a counter that went down, a restarted part, counts from zero)."""
        samples = self._samples[part]
        if len(samples) < 2:
            return 0
        first, last = samples[0][1], samples[-1][1]
        return last - first if last >= first else last

    def verdict(self, t: float) -> Health:
        reasons, fatal = [], []
        for part, rule in self.rules.items():
            count = self.recent(part)
            if count <= rule.max_per_window:
                self._degraded_since.pop(part, None)
                continue
            since = self._degraded_since.setdefault(part, t)
            reasons.append(f"{part}: {count} errors in the last {self.window_s:g} s")
            still_failing = t - self._last_error_at.get(part, since) <= STILL_FAILING_S
            if rule.fatal_after_s is not None and t - since >= rule.fatal_after_s and still_failing:
                fatal.append(f"{part}: failing for {t - since:.0f} s, it cannot recover by itself")
        if fatal:
            return Health("fault", tuple(fatal + reasons))
        return Health("degraded", tuple(reasons)) if reasons else Health("running")


LOST_DEGRADES_S = 600.0  # a lost event keeps the node degraded this long: long enough for the hub to see it


class OutboxHealth:
    """The outbox's part of the verdict, from its status record (edge.outbox.status.OutboxStatus): events held
    in memory because the file refuses writes (disk full, I/O error, max_events) degrade the node while they
    wait; an event lost (never stored, its seq skipped) degrades it for `lost_degrades_s` after the loss, with
    the cause the outbox gave when it happened."""

    def __init__(self, lost_degrades_s: float = LOST_DEGRADES_S) -> None:
        self.lost_degrades_s = lost_degrades_s
        self._lost_seen: int | None = None
        self._lost_at: float | None = None
        self._lost_cause: str | None = None

    def reasons(self, t: float, status: Any) -> tuple[str, ...]:
        """`status` has `held`, `lost`, `healthy` and `last_error` (an OutboxStatus)."""
        cause = status.last_error or "the outbox file refuses writes"
        reasons = []
        if status.held:
            reasons.append(f"outbox: {status.held} event(s) held in memory, not stored: {cause}; free space in the "
                           f"state directory and they are stored in order")
        elif not status.healthy:
            reasons.append(f"outbox: {cause}")
        if self._lost_seen is not None and status.lost > self._lost_seen:
            self._lost_at, self._lost_cause = t, cause
        self._lost_seen = status.lost
        if self._lost_at is not None and t - self._lost_at < self.lost_degrades_s:
            reasons.append(f"outbox: an event was lost ({status.lost} in all; never stored: {self._lost_cause}); "
                           f"their seqs are skipped, so the hub sees the gap")
        return tuple(reasons)
