"""One push button: a short press or a long press, from its edges and the clock."""

from __future__ import annotations

from enum import StrEnum


class Press(StrEnum):
    SHORT = "short"
    LONG = "long"


class ButtonTracker:
    """Feed it `down(t)` / `up(t)` edges and `poll(t)` ticks. A long press fires once while the button is
    still held (the technician sees the answer without letting go); its release then does nothing. A press
    shorter than `debounce_s` is contact bounce and ignored."""

    def __init__(self, long_press_s: float, debounce_s: float = 0.03) -> None:
        self.long_press_s = long_press_s
        self.debounce_s = debounce_s
        self._down_at: float | None = None
        self._long_fired = False

    @property
    def held(self) -> bool:
        return self._down_at is not None

    def down(self, t: float) -> None:
        if self._down_at is None:
            self._down_at = t
            self._long_fired = False

    def up(self, t: float) -> Press | None:
        if self._down_at is None:
            return None
        held_s = t - self._down_at
        self._down_at = None
        if self._long_fired:
            return None
        if held_s >= self.long_press_s:
            return Press.LONG
        return Press.SHORT if held_s >= self.debounce_s else None

    def poll(self, t: float) -> Press | None:
        if self._down_at is not None and not self._long_fired and t - self._down_at >= self.long_press_s:
            self._long_fired = True
            return Press.LONG
        return None
