"""`run --record FILE`: a recording the disk refuses stops, loudly and once, and the node goes on; a path that
cannot be created is a one-line error, not a traceback. A real 2 MB tmpfs and a real pty shelf."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from edge.cli import cli
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.loadcell.recording import CaptureReader
from edge.node import Node
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.pty_shelf import PtyShelf
from tests.plugins.disk import fill
from tests.plugins.waiting import wait_until


def test_record_into_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    config_path, _ = write_node_config(tmp_path, broker_port=1)
    result = CliRunner().invoke(cli, ["run", "--config", str(config_path), "--record", str(tmp_path / "no" / "x.cap")])
    assert result.exit_code == 1
    assert "cannot start: --record" in result.output and "cannot create the capture file" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)


def test_a_full_disk_stops_the_recording_not_the_node(tmp_path: Path, small_disk: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    layout = ShelfLayout.from_config(config, seed=8)
    install_factory_calibration(config, layout)
    capture = small_disk / "shelf.cap"
    with PtyShelf(generate_scenario(8, 120.0, layout), layout, sps=80, link_path=tmp_path / "shelf-tty"):
        node = Node(config, record_to=capture)
        node.start()
        try:
            assert wait_until(lambda: node.counters.frames > 100, 20), node.status_line()
            recording = node.status().recording
            assert recording is not None and recording.error is None and recording.lines > 100
            fill(small_disk)
            assert wait_until(lambda: node.status().recording.lines_lost > 0, 20), node.status().recording
            frames = node.counters.frames
            assert wait_until(lambda: node.counters.frames > frames + 160, 10)  # the node goes on at 80 SPS
            status = node.status()
            assert status.recording is not None and "No space left" in (status.recording.error or "")
            assert status.serial.unexpected_errors == 0  # not counted as a bug, not logged per line
            assert status.healthy
            assert status.to_json()["recording"]["lines_lost"] == status.recording.lines_lost
        finally:
            node.stop()
    reader = CaptureReader(capture, skip_bad=True)
    assert sum(1 for _ in reader) > 100  # what was written before is a capture replay can read


def test_record_onto_a_file_that_is_not_a_capture_is_refused(tmp_path: Path) -> None:
    config_path, _ = write_node_config(tmp_path, broker_port=1)
    before = config_path.read_bytes()
    result = CliRunner().invoke(cli, ["run", "--config", str(config_path), "--record", str(config_path)])
    assert result.exit_code == 1
    assert "is not a shelf-node capture; refusing to overwrite it" in result.output, result.output
    assert config_path.read_bytes() == before


def test_record_may_replace_an_earlier_capture(tmp_path: Path) -> None:
    _, config = write_node_config(tmp_path, broker_port=1)
    earlier = tmp_path / "earlier.cap"
    earlier.write_text("# shelf-node capture v1\n1796147510.000000\t$W,1*00\n")
    node = Node(config, record_to=earlier)
    try:
        assert node.status().recording is not None
    finally:
        node.stop()
    assert earlier.read_text().startswith("# shelf-node capture v1\n# node: ")
