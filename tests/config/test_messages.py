"""Config errors as a technician reads them: FILE, key path, what is wrong, what is allowed, the value as TOML.

Issue 11 items 9 and 12: no secret is ever echoed, no error carries the whole config as its value,
values are spelled as in the file (not as Python), patterns are said in words.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError, model_validator

from edge.config import parse_config
from edge.config.base import Section
from edge.config.loader import load_config
from edge.config.messages import describe_validation_error, render_value
from edge.errors import ConfigError

from .test_loader import MINIMAL, problems_of

FOUR_PLATES = MINIMAL.replace("channels = 4", "channels = 8") + """
[[plates]]
name = "p3"
channels = [4, 5]
[[plates]]
name = "p4"
channels = [6, 8]
"""


def with_mqtt(lines: str) -> str:
    return MINIMAL + "[mqtt]\n" + lines + "\n"


# -- secrets (item 9) -------------------------------------------------------------------------------

@pytest.mark.parametrize("mqtt", [
    'username = "u"\npassword = "hunter2"',  # inline password
    'username = "u"\npasswd = "hunter2"',  # misspelt key: still a secret
    'username = "u"\npasword = "hunter2"',  # a typo holding no secret word: its did-you-mean is one
    'username = "u"\npasswrd = "hunter2"',
    'username = "u"\nmqtt_passowrd = "hunter2"',  # a typo in one part of a longer name
    'password = "hunter2"',  # and no username
    'username = "u"\npassword = "hunter2"\nreconnect_min_s = 9.0\nreconnect_max_s = 1.0',
])
def test_an_inline_password_is_never_echoed(mqtt: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_mqtt(mqtt), source="test.toml")
    assert "hunter2" not in str(info.value)
    assert all("hunter2" not in problem for problem in info.value.problems)


def test_an_inline_password_is_described_by_its_length() -> None:
    (problem,) = problems_of(with_mqtt('username = "u"\npassword = "hunter2"'))
    assert problem == ("test.toml: mqtt.password: secrets are never inline: use 'file:/path/to/secret' or "
                       "'credential:NAME' (got an inline value, 7 characters, not shown)")


def test_config_check_never_prints_the_password(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(with_mqtt('username = "u"\npassword = "hunter2"'))
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "7 characters, not shown" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


# -- located values (item 12) -----------------------------------------------------------------------

def test_a_plate_error_shows_the_plates_value_not_the_whole_config() -> None:
    (problem,) = problems_of(FOUR_PLATES)
    assert problem == ("test.toml: plates[3].channels: channel 8 does not exist (serial.channels = 8, so 0..7) "
                       "(got [6, 8])")


@pytest.mark.parametrize(("mqtt", "expected"), [
    ("reconnect_min_s = 9.0\nreconnect_max_s = 1.0",
     "test.toml: mqtt.reconnect_max_s: must be at least reconnect_min_s (9) (got 1.0)"),
    ('password = "file:/etc/pw"', "test.toml: mqtt.username: is missing but mqtt.password is set; set the broker "
     "user name"),
    ('tls = { cert_file = "/etc/c.pem" }', "test.toml: mqtt.tls.key_file: is missing: mutual TLS needs cert_file and "
     "key_file; set both or neither"),
])
def test_cross_key_errors_name_their_key_and_only_its_value(mqtt: str, expected: str) -> None:
    assert problems_of(with_mqtt(mqtt)) == [expected]


def test_cross_key_errors_of_other_sections_are_located_too() -> None:
    text = MINIMAL.replace("channels = 4", "channels = 4\nbackoff_min_s = 5.0\nbackoff_max_s = 1.0") + """
[camera]
source = "0"
idle_fps = 5.0
active_fps = 2.0
[weighing]
open_fraction = 0.6
[fusion]
vision_hit = 0.5
vision_confusion = 0.6
"""
    problems = problems_of(text)
    assert sorted(problems) == [
        "test.toml: camera.active_fps: must be at least idle_fps (5) (got 2.0)",
        "test.toml: fusion.vision_confusion: must be below vision_hit (0.5), or a seen label would count against "
        "the SKU that carries it (got 0.6)",
        "test.toml: serial.backoff_max_s: must be at least backoff_min_s (5); swap them or raise backoff_max_s "
        "(got 1.0)",
        "test.toml: weighing.open_fraction: must be at most zero_track_band_fraction (0.5): a plate would leave "
        "its band without turning active, and zero tracking could never follow it (got 0.6)",
    ]


def test_no_error_echoes_a_table() -> None:
    text = MINIMAL + '[mqttt]\nhost = "hub"\n[mqtt]\nreconnect_min_s = 9.0\nreconnect_max_s = 1.0\n'
    problems = problems_of(text)
    assert problems == [
        "test.toml: mqtt.reconnect_max_s: must be at least reconnect_min_s (9) (got 1.0)",
        "test.toml: mqttt: unknown section; did you mean mqtt? remove it or check its spelling (see docs/config.md)",
    ]


class _Pair(Section):
    low: int = 0
    high: int = 1

    @model_validator(mode="after")
    def _ordered(self) -> _Pair:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class _Outer(Section):
    pair: _Pair


def test_a_models_own_check_without_key_problems_does_not_echo_its_table() -> None:
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"pair": {"low": 5, "high": 1}})
    assert describe_validation_error(info.value, model=_Outer, docs="docs/x.md") == ["pair: high must be at least low"]


def test_unknown_keys_point_to_the_documents_given() -> None:
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"pair": {"lwo": 5}})
    assert describe_validation_error(info.value, model=_Outer, docs="docs/planogram.md") == [
        "pair.lwo: unknown key; did you mean low? remove it or check its spelling (see docs/planogram.md) (value 5)"
    ]


def test_a_plate_name_used_twice_and_a_channel_listed_twice() -> None:
    text = MINIMAL.replace('name = "p2"', 'name = "p1"').replace("channels = [2, 3]", "channels = [2, 2]")
    assert problems_of(text) == [
        'test.toml: plates[1].name: plate name is used twice (also plates[0]); give each plate its own (got "p1")',
        "test.toml: plates[1].channels: channel 2 is listed twice (got [2, 2])",
    ]


# -- values as TOML, allowed values in words --------------------------------------------------------

@pytest.mark.parametrize(("value", "written"), [
    (True, "true"), (False, "false"), ("four", '"four"'), (1.5, "1.5"), (float("nan"), "nan"),
    (float("-inf"), "-inf"), ([6, 8], "[6, 8]"), ((1, 2), "[1, 2]"), ({"a": True}, "{a = true}"),
    ("x" * 100, '"' + "x" * 56 + "..."),
])
def test_values_are_written_as_in_the_file(value: object, written: str) -> None:
    assert render_value(value) == written


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('node_id = "n1"', "node_id = true", "node.node_id: must be a string in quotes (got true)"),
    ("channels = 4", "channels = true", "serial.channels: must be a number, not true or false (got true)"),
    ("channels = [0, 1]", "channels = [true, 1]",
     "plates[0].channels: must be a number, not true or false (got [true, 1])"),
    ("channels = 4", "channels = 4\nread_timeout_s = nan", "serial.read_timeout_s: must be a finite number, not "
     "nan or inf (got nan)"),
    ("channels = 4", "channels = 4\nbackoff_max_s = inf", "serial.backoff_max_s: must be a finite number, not "
     "nan or inf (got inf)"),
    ("channels = 4", 'channels = 4\nprotocol = "frmd"', 'serial.protocol: must be "framed" or "plain" (got "frmd")'),
    ("channels = 4", "channels = 4\nbaudrate = 100", "serial.baudrate: must be at least 300 (got 100)"),
    ("channels = 4", "channels = 4\nquery_on_open = 1", "serial.query_on_open: must be true or false, not a number "
     "(got 1)"),
    ("channels = 4", 'channels = 4\nquery_on_open = "no"', "serial.query_on_open: must be true or false, without "
     'quotes (got "no")'),  # pydantic read "no"/"off"/"yes" as a flag, and "false" in quotes passed too
    ("channels = 4", "channels = 4\nread_timeout_s = 0.0", "serial.read_timeout_s: must be greater than 0 (got 0.0)"),
    ("channels = [0, 1]", "channels = [0, 1]\nroi = 5", "plates[0].roi: must be a list in brackets (got 5)"),
    ("channels = [0, 1]", "channels = []", "plates[0].channels: must not be empty (got [])"),
    ('node_id = "n1"', 'node_id = "n1"\nstate_dir = ""',
     'node.state_dir: must not be empty; remove the key for the default (got "")'),
    ('node_id = "n1"', 'node_id = "n1"\nstate_dir = "~/state"', "node.state_dir: starts with '~', which nothing "
     'expands here; write the full path, e.g. /home/pi/... (got "~/state")'),
    ('port = "loop://"', 'port = " "', 'serial.port: must not be empty; set it (got " ")'),
    ("channels = [0, 1]", "channels = [0, 1]\nroi = [[-1, 0], [9, 0], [9, 9]]",
     "plates[0].roi: camera pixels start at 0; no coordinate may be negative (got [[-1, 0], [9, 0], [9, 9]])"),
    ("channels = [0, 1]", "channels = [0, 1]\nroi = [[0, 0], [0, 0], [9, 9]]", "plates[0].roi: needs at least 3 "
     "different points: the plate's corners, in order around it (got [[0, 0], [0, 0], [9, 9]])"),
    ('store_id = "s1"', 'store_id = "store 1"', "node.store_id: must be 1-64 characters: letters, digits, '_', '.' "
     "and '-', starting with a letter or digit (got \"store 1\")"),
])
def test_messages_say_what_is_allowed_in_the_files_words(old: str, new: str, expected: str) -> None:
    problems = problems_of(MINIMAL.replace(old, new))
    assert problems == [f"test.toml: {expected}"]
    assert not any(python in problems[0] for python in ("True", "None", "'four'", "^["))


def test_missing_and_misspelt_sections_are_named_as_sections() -> None:
    assert problems_of(MINIMAL.replace("[serial]", "[seral]")) == [
        "test.toml: serial: required section [serial] is missing; add it (see docs/config.md)",
        "test.toml: seral: unknown section; did you mean serial? remove it or check its spelling (see docs/config.md)",
    ]


def test_one_plates_table_instead_of_an_array_of_tables() -> None:
    text = '[node]\nstore_id = "s"\nnode_id = "n"\n[serial]\nport = "loop://"\n[plates]\nname = "p1"\nchannels = [0]\n'
    assert problems_of(text) == [
        "test.toml: plates: must be a list of tables: write [[plates]] once for each entry, not [plates]"
    ]


def test_a_topic_prefix_pattern_is_said_in_words() -> None:
    (problem,) = problems_of(with_mqtt('topic_prefix = "a/b"'))
    assert problem == ("test.toml: mqtt.topic_prefix: must be 1-64 characters without '/', '#', '+' or spaces "
                       '(got "a/b")')


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_bytes(MINIMAL.encode() + b"# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0xe9 at offset \d+\); save it as UTF-8"):
        load_config(path)


def test_a_directory_instead_of_a_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read: Is a directory; check the path"):
        load_config(tmp_path)


def test_planogram_and_scenario_errors_point_to_their_own_documents(tmp_path: Path) -> None:
    from edge.planogram import parse_planogram
    from edge.sim.scenario import load_scenario

    with pytest.raises(ConfigError) as info:
        parse_planogram('{"format": 2, "id": "pg", "version": 1, "catalouge": [], "plates": {}}', ["p1"])
    assert info.value.problems == [
        "planogram: catalogue: required key is missing; add it (see docs/planogram.md)",
        "planogram: catalouge: unknown key; did you mean catalogue? remove it or check its spelling "
        "(see docs/planogram.md) (value [])",
    ]
    scenario = tmp_path / "scenario.toml"
    scenario.write_text("sede = 3\n")
    with pytest.raises(ConfigError) as info:
        load_scenario(scenario)
    assert any(problem.startswith(f"{scenario}: sede: unknown key; did you mean seed? remove it or check its "
                                  "spelling (see docs/simulator.md)") for problem in info.value.problems)
