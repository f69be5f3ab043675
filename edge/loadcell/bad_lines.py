"""A rate-limited warning for the daemon's log when many serial lines are bad, with the likely cause.

The counters in SerialHealth say how many lines were dropped, but nobody reads them while a shelf
silently loses half its frames. Once per `window_s`, if at least `min_bad` lines and `min_share` of
the lines of that window were bad, `check()` returns one line for the log: the counts by reason and
what usually causes that mix. Pure: the caller passes its monotonic clock.
"""

from __future__ import annotations

from edge.loadcell.serial_status import SerialHealth

WINDOW_S = 30.0
MIN_BAD = 10
MIN_SHARE = 0.05

_CAUSES = {
    "noise": "line noise: a loose, long or unshielded cable, a USB hub, or another program writing to the port",
    "baud": "serial.baudrate (or serial.protocol) does not match the sketch, or another program is reading the "
            "port and taking half the bytes",
    "wiring": "serial.channels does not match what the firmware sends",
}


class BadLineAlarm:
    def __init__(self, window_s: float = WINDOW_S, min_bad: int = MIN_BAD, min_share: float = MIN_SHARE) -> None:
        self.window_s = window_s
        self.min_bad = min_bad
        self.min_share = min_share
        self._since: float | None = None
        self._lines = 0
        self._errors = 0
        self._frames = 0
        self._by_reason: dict[str, int] = {}

    def check(self, health: SerialHealth, now: float) -> str | None:
        """The warning to log now, or None (not yet a window since the last check, or few bad lines)."""
        if self._since is None:  # the first window runs from the first data (the counts start at zero)
            self._since = now
            return None
        if now - self._since < self.window_s:
            return None
        lines = health.lines - self._lines
        bad = health.errors - self._errors
        frames = health.frames_ok - self._frames
        reasons = {"checksum": health.checksum_errors, **health.malformed}
        delta = {k: v - self._by_reason.get(k, 0) for k, v in reasons.items() if v - self._by_reason.get(k, 0)}
        seconds = now - self._since
        self._start(health, now)
        if bad < self.min_bad or bad < self.min_share * max(lines, 1):
            return None
        breakdown = ", ".join(f"{reason} {count}" for reason, count in sorted(delta.items(), key=lambda kv: -kv[1]))
        share = 100 * bad / max(lines, 1)
        return (f"{bad} of {lines} serial lines were bad in the last {seconds:.0f} s ({share:.0f}%, {frames} good "
                f"frames; {breakdown}); likely cause: {_CAUSES[self._cause(delta, frames)]}")

    def _start(self, health: SerialHealth, now: float) -> None:
        self._since = now
        self._lines, self._errors, self._frames = health.lines, health.errors, health.frames_ok
        self._by_reason = {"checksum": health.checksum_errors, **health.malformed}

    @staticmethod
    def _cause(delta: dict[str, int], frames: int) -> str:
        checksum = delta.get("checksum", 0)
        fields = delta.get("field_count", 0)
        garbled = sum(v for k, v in delta.items() if k not in ("checksum", "field_count"))
        if fields > checksum + garbled:
            return "wiring"
        if garbled > checksum or frames == 0:
            return "baud"
        return "noise"
