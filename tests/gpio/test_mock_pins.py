"""The panel on gpiozero's mock pin factory: a button press toggles maintenance and the LED pin shows each
state's sequence; GPIO that cannot be opened is a warning, and the panel still works without it."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest

from edge.config.gpio import GpioSection
from edge.gpio.panel_thread import StatusPanel
from edge.gpio.patterns import NodeCondition
from tests.gpio.test_panel import Shelf
from tests.plugins.waiting import wait_until

pytest.importorskip("gpiozero", reason="needs gpiozero (pip install -e '.[dev]')")

LED, FAULT_LED, BUTTON = 17, 22, 27


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run_for(panel: StatusPanel, clock: Clock, seconds: float, step: float = 0.025) -> None:
    for _ in range(round(seconds / step)):
        clock.now += step
        panel.step()


def led_levels(panel: StatusPanel, pin: int) -> list[bool]:
    """The pin's history of levels, as gpiozero's mock pin recorded every write."""
    assert panel.pins is not None
    return [bool(s.state) for s in panel.pins.factory.pin(pin).states]


def press(panel: StatusPanel, clock: Clock, hold_s: float) -> None:
    assert panel.pins is not None
    button = panel.pins.factory.pin(BUTTON)
    button.drive_low()  # pull-up: pressed connects to ground
    assert wait_until(lambda: panel.panel.button.held, timeout=2)
    run_for(panel, clock, hold_s)
    button.drive_high()
    assert wait_until(lambda: not panel.panel.button.held, timeout=2)


@pytest.fixture
def section() -> GpioSection:
    return GpioSection(status_led=LED, fault_led=FAULT_LED, button=BUTTON, long_press_s=2.0, pin_factory="mock")


def test_button_press_toggles_maintenance_and_the_led_sequence_follows(section: GpioSection) -> None:
    shelf, clock = Shelf(), Clock()
    panel = StatusPanel(section, shelf, shelf.condition, clock=clock).open()
    try:
        assert panel.status().pins == "mock"
        run_for(panel, clock, 1.0)
        assert led_levels(panel, LED)[1:] == [True]  # running: on once, and it stays on
        press(panel, clock, 0.2)
        assert shelf.maintenance is True
        panel.pins.factory.pin(LED).clear_states()  # type: ignore[union-attr]
        run_for(panel, clock, 4.1)
        assert led_levels(panel, LED)[1:] == [False, True, False, True]  # a short gap every 2 s
        assert panel.status().led == "maintenance" and panel.status().panel.last_action == "maintenance on"
        press(panel, clock, 0.2)
        run_for(panel, clock, 0.1)
        assert shelf.maintenance is False and panel.status().led == "running"
    finally:
        panel.stop()


def test_a_long_press_while_the_shelf_moves_blinks_refused(section: GpioSection) -> None:
    shelf, clock = Shelf(stable=False), Clock()
    panel = StatusPanel(section, shelf, shelf.condition, clock=clock).open()
    try:
        run_for(panel, clock, 0.5)
        panel.pins.factory.pin(LED).clear_states()  # type: ignore[union-attr]
        press(panel, clock, 2.1)
        run_for(panel, clock, 1.2)
        assert led_levels(panel, LED)[1:] == [False, True, False, True, False, True, False, True]
        assert shelf.tared == 0 and panel.status().panel.refused_tares == 1
        shelf.stable = True
        press(panel, clock, 2.1)
        assert shelf.tared == 1
    finally:
        panel.stop()


def test_the_fault_led_lights_in_fault_and_degraded(section: GpioSection) -> None:
    clock = Clock()
    condition = [NodeCondition()]
    panel = StatusPanel(section, Shelf(), lambda: condition[0], clock=clock).open()
    try:
        run_for(panel, clock, 0.5)
        assert led_levels(panel, FAULT_LED)[-1] is False
        condition[0] = NodeCondition(fault="node file rejected")
        run_for(panel, clock, 0.5)
        assert panel.status().led == "fault" and led_levels(panel, FAULT_LED)[-1] is True
        assert led_levels(panel, LED).count(True) >= 4  # the 10 Hz flicker
    finally:
        panel.stop()


def test_gpio_that_cannot_be_opened_is_a_warning_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    """`native` on a machine without a Raspberry Pi's GPIO fails to open; the panel runs on without pins."""
    section = GpioSection(status_led=LED, button=BUTTON, pin_factory="native")
    shelf = Shelf()
    with caplog.at_level(logging.WARNING, logger="edge.gpio.panel_thread"):
        panel = StatusPanel(section, shelf, shelf.condition).open()
    try:
        if panel.pins is not None:
            pytest.skip("this machine has working GPIO")
        status = panel.status()
        assert status.pins == "unavailable" and status.problem is not None and "GPIO pins 17, 27" in status.problem
        assert "runs without its status LED and button" in caplog.text
        panel.step()
        assert panel.status().led == "running"
    finally:
        panel.stop()


def test_no_gpio_section_means_no_pins_and_a_running_thread() -> None:
    shelf = Shelf()
    panel = StatusPanel(None, shelf, shelf.condition).start()
    try:
        assert wait_until(lambda: panel.status().led == "running", timeout=2)
        assert panel.status().pins == "none" and any(t.name == "gpio" for t in threading.enumerate())
    finally:
        panel.stop()


@pytest.mark.parametrize(("condition", "state", "writes_in_6s"), [
    (NodeCondition(booting=True), "booting", 24),
    (NodeCondition(), "running", 1),
    (NodeCondition(mqtt_connected=False, queued_events=3), "mqtt_offline", 6),
    (NodeCondition(degraded=("detector: 40 errors in the last 60 s",)), "degraded", 16),
    (NodeCondition(fault="node file rejected"), "fault", 120),
    (NodeCondition(maintenance=True), "maintenance", 6),
])
def test_each_state_drives_its_pattern_on_the_pin(section: GpioSection, condition: NodeCondition, state: str,
                                                  writes_in_6s: int) -> None:
    """The LED pin's recorded writes over 6 s (a whole number of every pattern's period): one per level change."""
    clock = Clock()
    panel = StatusPanel(section, Shelf(), lambda: condition, clock=clock).open()
    try:
        panel.pins.factory.pin(LED).clear_states()  # type: ignore[union-attr]
        run_for(panel, clock, 6.0, step=0.01)
        levels = led_levels(panel, LED)[1:]
        assert panel.status().led == state
        assert abs(len(levels) - writes_in_6s) <= 1, levels[:12]
        assert all(a != b for a, b in itertools.pairwise(levels))  # only changes are written
    finally:
        panel.stop()


def test_auto_on_a_machine_without_gpio_says_it_once_in_the_log_not_in_raw_library_warnings() -> None:
    """gpiozero's `auto` tries lgpio, RPi.GPIO, pigpio and native, warning PinFactoryFallback at each: on stderr
    (the journal) those are 8 lines of a library's internals before the node's own one-line explanation."""
    import warnings

    section = GpioSection(status_led=LED, button=BUTTON, pin_factory="auto")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shelf = Shelf()
        panel = StatusPanel(section, shelf, shelf.condition).open()
        panel.stop()
    if panel.pins is not None:
        pytest.skip("this machine has working GPIO")
    assert [str(w.message) for w in caught] == []
    assert "no pin library works here" in (panel.status().problem or "")
