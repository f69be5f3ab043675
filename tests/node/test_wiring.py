"""Building the node's parts: the state directory (only its last component is ever created)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import write_node_config
from edge.errors import StateError
from edge.node.wiring import open_state_dir


def test_a_mistyped_state_dir_creates_no_tree(tmp_path: Path) -> None:
    mistyped = tmp_path / "var" / "lib" / "shelf-nod" / "state"
    with pytest.raises(StateError, match=r"its parent .*shelf-nod does not exist; is node.state_dir mistyped"):
        open_state_dir(mistyped)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_last_component_is_created_with_a_loud_warning(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert open_state_dir(tmp_path / "state") == tmp_path / "state"
    assert (tmp_path / "state").is_dir()
    assert "created a NEW, EMPTY state directory" in caplog.text and "node.state_dir is wrong" in caplog.text


def test_an_existing_state_dir_is_used_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "calibration.json").write_text("{}")
    with caplog.at_level(logging.WARNING):
        assert open_state_dir(tmp_path) == tmp_path
    assert caplog.text == ""
    assert (tmp_path / "calibration.json").read_text() == "{}"


def test_a_file_in_place_of_the_state_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("")
    with pytest.raises(StateError, match="exists but is not a directory"):
        open_state_dir(tmp_path / "state")


def test_run_with_a_mistyped_state_dir_refuses_to_start(tmp_path: Path) -> None:
    config_path, _ = write_node_config(tmp_path, broker_port=1)
    text = config_path.read_text().replace(str(tmp_path / "state"), str(tmp_path / "sate" / "state"))
    config_path.write_text(text)
    result = CliRunner().invoke(cli, ["run", "--config", str(config_path)])
    assert result.exit_code != 0
    assert "cannot start" in result.output and "is node.state_dir mistyped" in result.output, result.output
    assert not (tmp_path / "sate").exists()
