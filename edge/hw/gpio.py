"""GPIO pins through gpiozero (lgpio underneath on Raspberry Pi 5 and 4, RPi.GPIO where present), imported
lazily: the status LED(s) and the button of [gpio]. `pin_factory = "mock"` uses gpiozero's mock pins
(demos and tests; `GpioPins.factory` then lets a test drive the button and read the LED's history)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Callable
from typing import Any

from edge.config.gpio import GpioSection
from edge.errors import ShelfNodeError

log = logging.getLogger(__name__)

FACTORIES = {"lgpio": "LGPIOFactory", "rpigpio": "RPiGPIOFactory", "native": "NativeFactory", "mock": "MockFactory"}


class GpioUnavailable(ShelfNodeError, OSError):
    """The pins cannot be used: no gpiozero, no GPIO chip, a pin taken or invalid. The node runs without them."""


class GpioPins:
    def __init__(self, factory: Any, led: Any, fault_led: Any | None, button: Any | None) -> None:
        self.factory = factory
        self._led, self._fault_led, self._button = led, fault_led, button

    @classmethod
    def open(cls, section: GpioSection, on_press: Callable[[], None], on_release: Callable[[], None]) -> GpioPins:
        """The pins of `section`, the button's edges calling `on_press` / `on_release` (from gpiozero's thread).
        GpioUnavailable saying what is wrong and what to do."""
        try:
            import gpiozero
        except ImportError:
            raise GpioUnavailable("gpiozero is not installed; install the rpi extra (pip install "
                                  "'shelf-node[rpi]') or remove [gpio] from the config") from None
        opened: list[Any] = []
        try:
            with warnings.catch_warnings():
                # `auto` warns PinFactoryFallback for each library it tries (8 lines of the library's internals
                # in the journal); what failed is said once, by GpioUnavailable's message
                warnings.simplefilter("ignore", gpiozero.PinFactoryFallback)
                factory = _factory(section.pin_factory)
                led = gpiozero.LED(section.status_led, active_high=section.led_active_high, pin_factory=factory)
            opened.append(led)
            fault_led = None
            if section.fault_led is not None:
                fault_led = gpiozero.LED(section.fault_led, active_high=section.led_active_high, pin_factory=factory)
                opened.append(fault_led)
            button = None
            if section.button is not None:
                button = gpiozero.Button(section.button, pull_up=section.button_pull_up, bounce_time=None,
                                         pin_factory=factory)
                button.when_pressed = lambda: on_press()
                button.when_released = lambda: on_release()
                opened.append(button)
        except (gpiozero.GPIOZeroError, OSError, RuntimeError, ImportError) as exc:
            # RuntimeError: RPi.GPIO's "not running on a Raspberry Pi"; ImportError: a missing pin library
            for device in opened:
                with contextlib.suppress(gpiozero.GPIOZeroError, OSError):
                    device.close()
            raise GpioUnavailable(_explain(section, exc)) from None
        return cls(factory, led, fault_led, button)

    def set_led(self, lit: bool) -> None:
        self._led.value = lit

    def set_fault_led(self, lit: bool) -> None:
        if self._fault_led is not None:
            self._fault_led.value = lit

    @property
    def has_button(self) -> bool:
        return self._button is not None

    def close(self) -> None:
        for device in (self._button, self._fault_led, self._led):
            if device is not None:
                device.close()


def _factory(name: str) -> Any:
    """None lets gpiozero choose (lgpio, then RPi.GPIO, ...); otherwise gpiozero.pins.NAME's factory class."""
    if name == "auto":
        return None
    return getattr(importlib.import_module(f"gpiozero.pins.{name}"), FACTORIES[name])()


def _explain(section: GpioSection, exc: BaseException) -> str:
    pins = f"pins {section.status_led}" + "".join(
        f", {p}" for p in (section.fault_led, section.button) if p is not None)
    if isinstance(exc, PermissionError):
        return (f"GPIO {pins}: permission denied ({exc}); the service user needs the gpio group "
                f"(SupplementaryGroups=gpio) and DeviceAllow=/dev/gpiochip0")
    if type(exc).__name__ in ("BadPinFactory", "PinFactoryFallback", "PinUnknownPi"):
        return (f"GPIO {pins}: no pin library works here ({exc}); on a Raspberry Pi install the rpi extra "
                f"(lgpio); elsewhere remove [gpio] or set gpio.pin_factory = \"mock\"")
    return (f"GPIO {pins}: {type(exc).__name__}: {exc}; check the [gpio] pin numbers (BCM) and that no other "
            f"program uses them")
