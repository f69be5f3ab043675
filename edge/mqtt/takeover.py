"""Telling a namesake's takeover from other disconnects (no paho here: reason values and times in).

Two nodes configured with the same store/node ids share one client_id, and the broker throws the
older connection out whenever the other one connects. MQTT 5 may say so (reason 142, "Session
taken over"); mosquitto 2.0 just closes the socket, so a run of closes soon after connecting with
no event of ours in flight counts too (a close after an ACL-refused event has that event in flight).
The link then waits TAKEOVER_BACKOFF_S before taking the connection back, and keeps its session number.
"""

from __future__ import annotations

from edge.mqtt.connection import Backoff

STABLE_AFTER_S = 5.0  # a connection up this long resets the backoffs and the run of quick closes
TAKEOVER_BACKOFF_S = (30.0, 300.0)
QUICK_CLOSES_FOR_TAKEOVER = 3
SESSION_TAKEN_OVER = 142


class TakeoverWatch:
    def __init__(self) -> None:
        self.backoff = Backoff(*TAKEOVER_BACKOFF_S)  # read at construction, so tests may shorten it
        self.taken_over = False  # the next attempt waits self.backoff and keeps the session number
        self.count = 0
        self._quick_closes = 0
        self._connected_at = 0.0

    def connected(self, now: float) -> None:
        self._connected_at = now

    def stable(self) -> None:
        self.backoff.reset()
        self._quick_closes = 0

    def closed(self, reason_value: int, reason: str, inflight: int, now: float) -> str | None:
        """A connection ended: the evidence of a takeover, in words, or None."""
        quick = now - self._connected_at < STABLE_AFTER_S and inflight == 0
        self._quick_closes = self._quick_closes + 1 if quick else 0
        if reason_value == SESSION_TAKEN_OVER:
            evidence = f"MQTT 5 reason {SESSION_TAKEN_OVER} '{reason}'"
        elif self._quick_closes >= QUICK_CLOSES_FOR_TAKEOVER:
            evidence = (f"the broker closed the connection {self._quick_closes} times in a row within "
                        f"{STABLE_AFTER_S:g} s of connecting, nothing in flight")
        else:
            return None
        self.count += 1
        self.taken_over = True
        return evidence
