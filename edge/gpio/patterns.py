"""LED states and their blink patterns, and which state the node's condition shows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LedState(StrEnum):
    BOOTING = "booting"
    RUNNING = "running"
    MQTT_OFFLINE = "mqtt_offline"  # the link is down; events wait in the outbox
    DEGRADED = "degraded"
    FAULT = "fault"
    MAINTENANCE = "maintenance"
    REFUSED = "refused"  # a tare refused (the shelf is not stable): shown briefly over the others


@dataclass(frozen=True, slots=True)
class Pattern:
    """(lit, seconds) steps repeated from the moment the state began; `once` plays them a single time."""

    steps: tuple[tuple[bool, float], ...]
    once: bool = False

    @property
    def period_s(self) -> float:
        return sum(seconds for _, seconds in self.steps)

    def lit(self, elapsed_s: float) -> bool:
        """Whether the LED is on `elapsed_s` after the pattern started."""
        t = max(0.0, elapsed_s)
        if not self.once:
            t %= self.period_s
        for lit, seconds in self.steps:
            if t < seconds:
                return lit
            t -= seconds
        return self.steps[-1][0]

    def done(self, elapsed_s: float) -> bool:
        return self.once and elapsed_s >= self.period_s


def _blink(on_s: float, off_s: float) -> Pattern:
    return Pattern(((True, on_s), (False, off_s)))


PATTERNS: dict[LedState, Pattern] = {
    LedState.RUNNING: Pattern(((True, 1.0),)),  # steady
    LedState.BOOTING: _blink(0.25, 0.25),  # even 2 Hz blink
    LedState.MQTT_OFFLINE: _blink(1.0, 1.0),  # slow blink
    LedState.DEGRADED: Pattern(((True, 0.15), (False, 0.15), (True, 0.15), (False, 1.05))),  # double blink
    LedState.FAULT: _blink(0.05, 0.05),  # 10 Hz flicker
    LedState.MAINTENANCE: Pattern(((True, 1.8), (False, 0.2))),  # on, with a short gap every 2 s
    # three quick blinks framed by darkness, so they stand out from a steady or blinking LED
    LedState.REFUSED: Pattern(((False, 0.2),) + ((True, 0.1), (False, 0.1)) * 3 + ((False, 0.4),), once=True),
}


@dataclass(frozen=True, slots=True)
class NodeCondition:
    """What the LED reports, read from the node's status each tick."""

    booting: bool = False  # started, not yet serving (no weight frame processed yet)
    fault: str | None = None  # why the node cannot do its job (a bad node file, a dead worker)
    degraded: tuple[str, ...] = ()  # reasons it works with a part failing
    mqtt_connected: bool = True
    queued_events: int = 0
    maintenance: bool = False


def led_state(condition: NodeCondition) -> LedState:
    """The one state shown: the most urgent first. Maintenance comes before degraded and offline so the
    clerk restocking sees the mode they set; a fault hides everything."""
    if condition.fault:
        return LedState.FAULT
    if condition.booting:
        return LedState.BOOTING
    if condition.maintenance:
        return LedState.MAINTENANCE
    if condition.degraded:
        return LedState.DEGRADED
    if not condition.mqtt_connected:
        return LedState.MQTT_OFFLINE
    return LedState.RUNNING
