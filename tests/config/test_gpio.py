"""[gpio] in a real config file: optional, pins in range and distinct, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import load_config
from edge.errors import ConfigError

from .test_loader import MINIMAL


def load(tmp_path: Path, gpio: str) -> object:
    path = tmp_path / "node.toml"
    path.write_text(MINIMAL + gpio)
    return load_config(path)


def test_gpio_is_optional_and_read_when_present(tmp_path: Path) -> None:
    assert load(tmp_path, "").gpio is None  # type: ignore[attr-defined]
    config = load(tmp_path, "[gpio]\nstatus_led = 17\nbutton = 27\nlong_press_s = 3\n")
    assert config.gpio.status_led == 17 and config.gpio.button == 27  # type: ignore[attr-defined]
    assert config.gpio.long_press_s == 3.0 and config.gpio.pin_factory == "auto"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("gpio", "message"), [
    ("status_led = 17\nbutton = 17\n", "gpio.button: pin 17 is already gpio.status_led; give each its own pin"),
    ("status_led = 40\n", "gpio.status_led"),
    ("status_led = 17\npin_factory = \"pigpio\"\n", "gpio.pin_factory"),
    ("button = 27\n", "gpio.status_led: required key is missing"),
])
def test_bad_gpio_settings_are_located(tmp_path: Path, gpio: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, "[gpio]\n" + gpio)
    assert any(message in problem for problem in refused.value.problems), refused.value.problems
