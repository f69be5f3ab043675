"""The panel's state machine: button presses become actions, the node's condition becomes an LED level."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from edge.errors import ShelfNodeError
from edge.gpio.button import ButtonTracker, Press
from edge.gpio.patterns import PATTERNS, LedState, NodeCondition, led_state

log = logging.getLogger(__name__)


class PanelActions(Protocol):
    """What the button acts on (the node)."""

    def toggle_maintenance(self) -> bool: ...  # the new mode
    def shelf_stable(self) -> bool: ...
    def tare(self) -> None: ...  # every plate; raises NotStableError (a ShelfNodeError) while moving


@dataclass(frozen=True, slots=True)
class PanelStatus:
    led: str  # the LedState shown
    lit: bool
    presses: int
    tares: int
    refused_tares: int
    last_action: str | None  # e.g. "maintenance on", "tare", "tare refused: plate p1 is moving"

    def to_json(self) -> dict[str, Any]:
        return {"led": self.led, "lit": self.lit, "presses": self.presses, "tares": self.tares,
                "refused_tares": self.refused_tares, "last_action": self.last_action}


class Panel:
    def __init__(self, actions: PanelActions, long_press_s: float = 2.0) -> None:
        self.actions = actions
        self.button = ButtonTracker(long_press_s)
        self._shown = LedState.BOOTING
        self._since = 0.0
        self._refused_at: float | None = None
        self._lit = False
        self._presses = self._tares = self._refused = 0
        self._last_action: str | None = None

    # -- button ------------------------------------------------------------------------------------
    def button_down(self, t: float) -> None:
        self.button.down(t)

    def button_up(self, t: float) -> None:
        self._act(self.button.up(t), t)

    def tick(self, t: float, condition: NodeCondition) -> bool:
        """Advance to `t`: a long press that just reached its time acts; returns whether the LED is lit."""
        self._act(self.button.poll(t), t)
        return self.led(t, condition)

    def _act(self, press: Press | None, t: float) -> None:
        if press is None:
            return
        self._presses += 1
        if press is Press.SHORT:
            on = self.actions.toggle_maintenance()
            self._last_action = f"maintenance {'on' if on else 'off'}"
            log.info("button: short press: maintenance mode %s", "on" if on else "off")
            return
        if not self.actions.shelf_stable():
            self._refuse(t, "the shelf is not stable; take your hands off and try again")
            return
        try:
            self.actions.tare()
        except ShelfNodeError as exc:
            self._refuse(t, str(exc))
            return
        self._tares += 1
        self._last_action = "tare"
        log.info("button: long press: every plate tared")

    def _refuse(self, t: float, why: str) -> None:
        self._refused += 1
        self._refused_at = t
        self._last_action = f"tare refused: {why}"
        log.warning("button: long press: tare refused: %s", why)

    # -- LED ---------------------------------------------------------------------------------------
    def led(self, t: float, condition: NodeCondition) -> bool:
        if self._refused_at is not None:
            pattern = PATTERNS[LedState.REFUSED]
            if not pattern.done(t - self._refused_at):
                self._lit = pattern.lit(t - self._refused_at)
                self._show(LedState.REFUSED, self._refused_at)
                return self._lit
            self._refused_at = None
        state = led_state(condition)
        self._show(state, t)
        self._lit = PATTERNS[state].lit(t - self._since)
        return self._lit

    def _show(self, state: LedState, since: float) -> None:
        if state != self._shown:
            self._shown, self._since = state, since

    @property
    def shown(self) -> LedState:
        return self._shown

    def status(self) -> PanelStatus:
        return PanelStatus(self._shown.value, self._lit, self._presses, self._tares, self._refused, self._last_action)
