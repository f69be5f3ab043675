"""`shelf-node serial watch|record` against a real pty streaming frames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.loadcell.protocol import FramedParser
from edge.loadcell.recording import read_capture, read_header
from edge.loadcell.serial_status import SerialHealth
from edge.model import WeightFrame

from .helpers import StreamingMcu


@pytest.fixture
def mcu() -> Iterator[StreamingMcu]:
    streaming = StreamingMcu(rate_hz=200)
    streaming.start()
    yield streaming
    streaming.stop()


def write_config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(
        f'[node]\nstore_id = "s1"\nnode_id = "n1"\n[serial]\nport = "{port}"\nchannels = 4\nread_timeout_s = 0.05\n'
        '[[plates]]\nname = "p1"\nchannels = [0, 1, 2, 3]\n'
    )
    return path


def test_watch_json_streams_frames_then_health(tmp_path: Path, mcu: StreamingMcu) -> None:
    config = write_config(tmp_path, mcu.pty.path)
    result = CliRunner().invoke(cli, ["serial", "watch", "--config", str(config), "--json", "--duration", "0.8"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    frames = [r for r in records if r["type"] == "frame"]
    assert len(frames) > 20
    assert all(len(f["counts"]) == 4 for f in frames)
    assert next(r for r in records if r["type"] == "info")["firmware"] == "stream-fw"
    final = records[-1]
    assert final["type"] == "health" and final["frames_ok"] == len(frames) and final["errors"] == 0


def test_watch_table_shows_every_channel(tmp_path: Path, mcu: StreamingMcu) -> None:
    config = write_config(tmp_path, mcu.pty.path)
    result = CliRunner().invoke(cli, ["serial", "watch", "--config", str(config), "--duration", "0.5"])
    assert result.exit_code == 0, result.output
    assert "fw stream-fw uid S1" in result.stdout
    table_rows = [line.split() for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert [row[0] for row in table_rows] == ["0", "1", "2", "3"]


def test_record_writes_a_capture_that_replays_through_the_parser(tmp_path: Path, mcu: StreamingMcu) -> None:
    config = write_config(tmp_path, mcu.pty.path)
    out = tmp_path / "shelf.cap"
    args = ["serial", "record", "--config", str(config), "--duration", "0.8", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    header = read_header(out)
    assert header["protocol"] == "framed" and header["channels"] == "4" and header["sps"] == "200"
    assert header["node"] == "s1/n1" and header["source"] == mcu.pty.path and len(header["config_digest"]) == 64
    parser = FramedParser(SerialHealth(4))
    frames = [f for t, raw in read_capture(out) if isinstance(f := parser.parse(raw, t), WeightFrame)]
    assert len(frames) > 20
    assert [f.seq for f in frames] == list(range(frames[0].seq or 0, (frames[0].seq or 0) + len(frames)))
    assert parser.health.errors == 0
    assert "recorded" in result.stdout

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1
    assert "--force" in again.stderr


def test_watch_fails_in_one_line_when_the_port_is_missing(tmp_path: Path) -> None:
    config = write_config(tmp_path, str(tmp_path / "no-such-tty"))
    result = CliRunner().invoke(cli, ["serial", "watch", "--config", str(config), "--duration", "0.3"])
    assert result.exit_code == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("shelf-node: cannot open") and "no such device" in message


def test_record_with_frames_records_the_camera_beside_the_capture(tmp_path: Path, mcu: StreamingMcu) -> None:
    from tests.vision.frames import write_frames

    config = write_config(tmp_path, mcu.pty.path)
    write_frames(tmp_path / "camera", 40, 0.05)
    config.write_text(config.read_text() + f'[camera]\nsource = "{tmp_path / "camera"}"\nactive_fps = 20\n')
    out, frames = tmp_path / "shelf.cap", tmp_path / "shelf.frames"
    args = ["serial", "record", "--config", str(config), "--duration", "0.8", "--frames", str(frames),
            "--frames-max-count", "5", "--json", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["camera"]["frames"] == 5 and summary["camera"]["full"] == "max 5 frames", summary
    assert len(list(frames.glob("*.jpg"))) == 5 and read_header(out)["channels"] == "4"
    (tmp_path / "plain").mkdir()
    no_camera = write_config(tmp_path / "plain", mcu.pty.path)
    refused = CliRunner().invoke(cli, ["serial", "record", "--config", str(no_camera), "--duration", "0.3",
                                       "--frames", str(tmp_path / "f2"), str(tmp_path / "b.cap")])
    assert refused.exit_code == 1 and "no [camera] section" in refused.stderr
