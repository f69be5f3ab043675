"""The LED patterns and the button's state machine, on an explicit clock (no pins, no threads)."""

from __future__ import annotations

import itertools

import pytest

from edge.errors import NotStableError
from edge.gpio.button import ButtonTracker, Press
from edge.gpio.panel import Panel
from edge.gpio.patterns import PATTERNS, LedState, NodeCondition, led_state

RUNNING = NodeCondition()


class Shelf:
    """The node as the button sees it: a maintenance flag, a stable or moving shelf, a tare count."""

    def __init__(self, stable: bool = True, tare_error: str | None = None) -> None:
        self.maintenance = False
        self.stable = stable
        self.tare_error = tare_error
        self.tared = 0

    def toggle_maintenance(self) -> bool:
        self.maintenance = not self.maintenance
        return self.maintenance

    def shelf_stable(self) -> bool:
        return self.stable

    def tare(self) -> None:
        if self.tare_error:
            raise NotStableError(self.tare_error)
        self.tared += 1

    def condition(self) -> NodeCondition:
        return NodeCondition(maintenance=self.maintenance)


def levels(panel: Panel, condition: NodeCondition, start: float, seconds: float, step: float = 0.05) -> list[bool]:
    """The LED sampled mid-step (never on a step boundary, where float rounding decides)."""
    return [panel.tick(start + (i + 0.5) * step, condition) for i in range(round(seconds / step))]


def edges(samples: list[bool]) -> int:
    return sum(1 for a, b in itertools.pairwise(samples) if a != b)


@pytest.mark.parametrize(("condition", "state"), [
    (NodeCondition(fault="bad node file", booting=True, maintenance=True), LedState.FAULT),
    (NodeCondition(booting=True, maintenance=True, mqtt_connected=False), LedState.BOOTING),
    (NodeCondition(maintenance=True, degraded=("detector",), mqtt_connected=False), LedState.MAINTENANCE),
    (NodeCondition(degraded=("detector",), mqtt_connected=False), LedState.DEGRADED),
    (NodeCondition(mqtt_connected=False, queued_events=4), LedState.MQTT_OFFLINE),
    (RUNNING, LedState.RUNNING),
])
def test_the_most_urgent_condition_is_shown(condition: NodeCondition, state: LedState) -> None:
    assert led_state(condition) is state


@pytest.mark.parametrize(("state", "on_fraction", "toggles_per_6s"), [
    (LedState.RUNNING, 1.0, 0), (LedState.BOOTING, 0.5, 23), (LedState.MQTT_OFFLINE, 0.5, 5),
    (LedState.FAULT, 0.5, 119), (LedState.MAINTENANCE, 0.9, 5), (LedState.DEGRADED, 0.2, 15),
])
def test_each_state_has_its_own_pattern(state: LedState, on_fraction: float, toggles_per_6s: int) -> None:
    pattern = PATTERNS[state]
    samples = [pattern.lit((i + 0.5) / 1000) for i in range(6000)]  # 6 s: a whole number of every period
    assert sum(samples) / len(samples) == pytest.approx(on_fraction, abs=0.005)
    assert edges(samples) == toggles_per_6s


def test_button_short_long_and_bounce() -> None:
    button = ButtonTracker(long_press_s=2.0)
    button.down(0.0)
    assert button.up(0.01) is None  # contact bounce
    button.down(1.0)
    assert button.poll(1.5) is None
    assert button.up(1.3 + 0.2) is Press.SHORT
    button.down(5.0)
    assert button.poll(6.9) is None
    assert button.poll(7.0) is Press.LONG  # fires while held
    assert button.poll(7.5) is None and button.up(8.0) is None  # once, and the release does nothing


def test_a_short_press_toggles_maintenance_and_the_led_follows() -> None:
    shelf = Shelf()
    panel = Panel(shelf, long_press_s=2.0)
    assert set(levels(panel, shelf.condition(), 0.0, 2.0)) == {True}  # running: steady
    panel.button_down(2.0)
    panel.button_up(2.2)
    assert shelf.maintenance is True and panel.status().last_action == "maintenance on"
    maintenance = levels(panel, shelf.condition(), 2.2, 4.1)
    assert panel.shown is LedState.MAINTENANCE and edges(maintenance) == 4  # a gap every 2 s
    panel.button_down(7.0)
    panel.button_up(7.1)
    assert shelf.maintenance is False
    assert set(levels(panel, shelf.condition(), 7.1, 1.0)) == {True}


def test_a_long_press_tares_when_the_shelf_is_stable() -> None:
    shelf = Shelf(stable=True)
    panel = Panel(shelf, long_press_s=2.0)
    panel.button_down(0.0)
    levels(panel, RUNNING, 0.0, 2.1)
    assert shelf.tared == 1 and panel.status().tares == 1
    panel.button_up(3.0)
    assert shelf.maintenance is False  # the release of a long press is not a short press


@pytest.mark.parametrize("shelf", [Shelf(stable=False), Shelf(stable=True, tare_error="plate p1 is moving")])
def test_a_refused_tare_blinks_three_times_then_shows_the_state_again(shelf: Shelf) -> None:
    panel = Panel(shelf, long_press_s=2.0)
    panel.button_down(10.0)
    panel.tick(12.0, RUNNING)  # the long press fires here
    assert shelf.tared == 0 and panel.status().refused_tares == 1
    assert str(panel.status().last_action).startswith("tare refused")
    refused = levels(panel, RUNNING, 12.0, 1.4, step=0.05)
    assert refused[:4] == [False] * 4  # dark first, so the blinks stand out from a steady LED
    assert refused[4:16] == [True, True, False, False] * 3  # three quick blinks
    assert refused[16:24] == [False] * 8 and refused[-1] is True  # a pause, then running again
    assert panel.shown is LedState.RUNNING
