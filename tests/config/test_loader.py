"""Config: every wrong input names file, key path and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import load_config, parse_config
from edge.errors import ConfigError

MINIMAL = """
[node]
store_id = "s1"
node_id = "n1"
[serial]
port = "loop://"
channels = 4
[[plates]]
name = "p1"
channels = [0, 1]
[[plates]]
name = "p2"
channels = [2, 3]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="test.toml")
    return info.value.problems


def test_minimal_config_loads_with_defaults() -> None:
    config = parse_config(MINIMAL)
    assert config.plate_names() == ["p1", "p2"]
    assert config.serial.protocol == "framed"


def test_unknown_key_is_refused_with_its_path() -> None:
    problems = problems_of(MINIMAL.replace('channels = 4', 'channels = 4\nbaud = 9600'))
    assert problems == [
        "test.toml: serial.baud: unknown key; did you mean baudrate? remove it or check its spelling "
        "(see docs/config.md) (value 9600)"
    ]


def test_missing_key_is_named() -> None:
    problems = problems_of(MINIMAL.replace('node_id = "n1"\n', ""))
    assert problems == ["test.toml: node.node_id: required key is missing; add it (see docs/config.md)"]


def test_wrong_type_names_value_and_allowed() -> None:
    (problem,) = problems_of(MINIMAL.replace('protocol', 'x').replace('channels = 4', 'channels = "four"'))
    assert problem.startswith("test.toml: serial.channels: ")
    assert problem == 'test.toml: serial.channels: must be a whole number (got "four")'


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = MINIMAL.replace('store_id = "s1"', 'store_id = "bad id/"').replace('channels = 4', 'channels = 0')
    problems = problems_of(text)
    assert len(problems) == 2
    assert any(p.startswith("test.toml: node.store_id:") for p in problems)
    assert any(p.startswith("test.toml: serial.channels:") for p in problems)


def test_plate_channel_out_of_range_and_shared_channel() -> None:
    (problem,) = problems_of(MINIMAL.replace("channels = [2, 3]", "channels = [1, 9]"))
    assert problem == (
        'test.toml: plates[1].channels: channel 1 already belongs to plate "p1" (plates[0]); a load cell belongs '
        "to one plate; channel 9 does not exist (serial.channels = 4, so 0..3) (got [1, 9])"
    )


def test_toml_syntax_error_names_file() -> None:
    (problem,) = problems_of("[node\n")
    assert problem.startswith("test.toml: not valid TOML:")


def test_toml_nested_too_deeply_is_a_syntax_error_not_a_traceback() -> None:
    (problem,) = problems_of("x = " + "[" * 5000 + "]" * 5000 + "\n")  # RecursionError in tomllib
    assert problem.startswith("test.toml: not valid TOML:") and "nested too deeply" in problem
    (problem,) = problems_of("x = " + "9" * 5000 + "\n")  # int() refused it with a traceback
    assert problem.startswith("test.toml: not valid TOML:") and "more than 4300 digits" in problem


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found; pass --config FILE"):
        load_config(tmp_path / "nope.toml")
