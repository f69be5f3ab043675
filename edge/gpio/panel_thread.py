"""`StatusPanel`: the one thread that drives the LED(s) from the node's condition and turns button edges
into actions. GPIO absent or failing is one warning, not a crash: the panel then still computes the LED
state (for `shelf-node status`) and the control socket's `maintenance` command still works."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.config.gpio import GpioSection
from edge.gpio.panel import Panel, PanelActions, PanelStatus
from edge.gpio.patterns import LedState, NodeCondition
from edge.hw.gpio import GpioPins, GpioUnavailable

log = logging.getLogger(__name__)

TICK_S = 0.02  # 50 Hz: the 10 Hz fault flicker keeps its shape
IDLE_TICK_S = 0.25  # no pins: the LED state is only shown by `shelf-node status`


@dataclass(frozen=True, slots=True)
class GpioStatus:
    """`status.gpio`: the panel, and whether real pins back it."""

    pins: str  # "ok", "mock", "none" (no [gpio]) or "unavailable"
    problem: str | None
    panel: PanelStatus

    @property
    def led(self) -> str:
        return self.panel.led

    def to_json(self) -> dict[str, Any]:
        return {"pins": self.pins, "problem": self.problem, **self.panel.to_json()}


class StatusPanel:
    def __init__(self, section: GpioSection | None, actions: PanelActions, condition: Callable[[], NodeCondition],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.section = section
        self.panel = Panel(actions, section.long_press_s if section else 2.0)
        self.condition = condition
        self.clock = clock
        self.pins: GpioPins | None = None
        self.problem: str | None = None
        self._lock = threading.Lock()  # button edges arrive on gpiozero's thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._led_on: bool | None = None

    def open(self) -> StatusPanel:
        """The pins, when [gpio] is configured and they work (else one warning); `start` calls it."""
        if self.section is not None and self.pins is None:
            try:
                self.pins = GpioPins.open(self.section, self._pressed, self._released)
            except GpioUnavailable as exc:
                self.problem = str(exc)
                log.warning("%s; the node runs without its status LED and button", exc)
        return self

    def start(self) -> StatusPanel:
        self.open()
        self._thread = threading.Thread(target=self._run, name="gpio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self.pins is not None:
            self.pins.set_led(False)
            self.pins.set_fault_led(False)
            self.pins.close()
            self.pins = None

    def _pressed(self) -> None:
        with self._lock:
            self.panel.button_down(self.clock())

    def _released(self) -> None:
        with self._lock:
            self.panel.button_up(self.clock())

    def _run(self) -> None:
        # without pins only `status()` reads the panel: a long press still needs its ticks, a LED does not
        tick = TICK_S if self.pins is not None else IDLE_TICK_S
        while not self._stop.wait(tick):
            self.step()

    def step(self) -> None:
        """One tick: the node's condition read, the LED set when its level changes."""
        condition = self.condition()
        with self._lock:
            lit = self.panel.tick(self.clock(), condition)
            shown = self.panel.shown
        if self.pins is not None and lit != self._led_on:
            self.pins.set_led(lit)
            self.pins.set_fault_led(shown in (LedState.FAULT, LedState.DEGRADED))
            self._led_on = lit

    def status(self) -> GpioStatus:
        if self.section is None:
            pins = "none"
        elif self.pins is None:
            pins = "unavailable"
        else:
            pins = "mock" if self.section.pin_factory == "mock" else "ok"
        with self._lock:
            return GpioStatus(pins, self.problem, self.panel.status())
