"""[gpio]: the status LED and the maintenance/tare button (gpiozero; absent = no GPIO). (Owner: field ops.)"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import KeyProblem, KeyProblems, Section


class GpioSection(Section):
    status_led: int = Field(description="BCM number of the status LED's pin (e.g. 17 for header pin 11).", ge=0, le=27)
    fault_led: int | None = Field(
        default=None, description="BCM number of an optional second (red) LED, lit in fault and degraded.",
        ge=0, le=27,
    )
    button: int | None = Field(
        default=None, description="BCM number of the button: a short press toggles maintenance mode, a long "
                                  "press tares (refused while the shelf moves).", ge=0, le=27,
    )
    long_press_s: float = Field(default=2.0, ge=0.5, le=10, description="Hold the button this long to tare.")
    led_active_high: bool = Field(default=True, description="false when the LED is wired from 3V3 to the pin.")
    button_pull_up: bool = Field(
        default=True, description="true: the button connects the pin to ground (internal pull-up).",
    )
    pin_factory: Literal["auto", "lgpio", "rpigpio", "native", "mock"] = Field(
        default="auto", description="gpiozero pin library: auto (lgpio on Pi 5 and 4, then RPi.GPIO), or "
                                    "mock (no hardware: demos and tests).",
    )

    @model_validator(mode="after")
    def _distinct_pins(self) -> GpioSection:
        seen: dict[int, str] = {self.status_led: "status_led"}
        problems = []
        for key in ("fault_led", "button"):
            pin = getattr(self, key)
            if pin is None:
                continue
            if pin in seen:
                problems.append(KeyProblem((key,), f"pin {pin} is already gpio.{seen[pin]}; give each its own pin",
                                           pin))
            seen.setdefault(pin, key)
        if problems:
            raise KeyProblems(problems)
        return self
