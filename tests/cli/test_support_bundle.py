"""`shelf-node support-bundle`: a real tar.gz from a real config, log directory and control socket; the
broker password must be nowhere in it, even where a log line or the daemon's status leaked it."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.control import ControlServer, Handler, HandlerTable
from tests.mqtt.nodecfg import write_config

SECRET = "S3cr3t-Pa55-for-the-broker"


@pytest.fixture
def node_files(tmp_path: Path) -> tuple[Path, Path]:
    password = tmp_path / "mqtt-password"
    password.write_text(SECRET + "\n")
    config = write_config(tmp_path, 1883, mqtt={"username": "node7", "password": f"file:{password}"})
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "shelf-node.log").write_text(f"ERROR mqtt: login with password {SECRET} refused\nINFO all good\n")
    return config, logs


@pytest.fixture
def leaky_daemon(tmp_path: Path) -> Iterator[ControlServer]:
    status: dict[str, Any] = {"healthy": True, "note": f"the password is {SECRET}"}
    server = ControlServer(tmp_path / "control.sock", HandlerTable({
        "status": Handler(lambda args: status), "weights": Handler(lambda args: {"plates": {"p1": {"grams": 1.0}}}),
        "events": Handler(lambda args: {"events": []}, params=("n", "after"))}), group=None).start()
    yield server
    server.stop()


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name.split("/", 1)[1]: archive.extractfile(m).read()  # type: ignore[union-attr]
                for m in archive.getmembers() if m.isfile()}


def bundle(tmp_path: Path, config: Path, logs: Path, socket: Path) -> tuple[int, str, dict[str, bytes]]:
    out = tmp_path / "support.tar.gz"
    result = CliRunner().invoke(cli, ["support-bundle", str(out), "--config", str(config), "--socket", str(socket),
                                      "--logs-dir", str(logs), "--no-journal"])
    return result.exit_code, result.output, members(out)


def test_the_bundle_holds_no_secret(tmp_path: Path, node_files: tuple[Path, Path],
                                    leaky_daemon: ControlServer) -> None:
    config, logs = node_files
    code, output, files = bundle(tmp_path, config, logs, leaky_daemon.path)
    assert code == 0, output
    assert {"config/config.toml", "config/effective.json", "versions.json", "daemon/status.json",
            "daemon/weights.json", "logs/shelf-node.log", "manifest.json"} <= set(files)
    for name, data in files.items():
        assert SECRET.encode() not in data, name
    raw = (tmp_path / "support.tar.gz").read_bytes()
    assert SECRET.encode() not in raw
    assert b"password = \"<redacted>\"" in files["config/config.toml"]
    assert b"login with password <redacted> refused" in files["logs/shelf-node.log"]
    assert json.loads(files["daemon/status.json"])["note"] == "the password is <redacted>"
    manifest = json.loads(files["manifest.json"])
    assert manifest["secrets_scrubbed"] == 1 and "daemon/snapshot.jpg" in manifest["missing"]
    assert json.loads(files["versions.json"])["libraries"]["click"]


def test_with_the_daemon_stopped_it_says_what_is_missing(tmp_path: Path, node_files: tuple[Path, Path]) -> None:
    config, logs = node_files
    code, output, files = bundle(tmp_path, config, logs, tmp_path / "no-daemon.sock")
    assert code == 0 and "missing daemon/status.json: the daemon is not running" in output
    assert "daemon/status.json" not in files and all(SECRET.encode() not in d for d in files.values())
    assert oct((tmp_path / "support.tar.gz").stat().st_mode & 0o777) == "0o600"
