"""A TLS file named in [mqtt.tls] that is missing or not PEM is a located config error, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config.mqtt import MqttSection
from edge.errors import ConfigError
from edge.mqtt.connection import make_client

REPO = Path(__file__).resolve().parents[2]


def section(ca_file: Path) -> MqttSection:
    return MqttSection.model_validate({"host": "127.0.0.1", "port": 8883, "tls": {"ca_file": str(ca_file)}})


def test_a_missing_ca_file_names_the_key_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(ConfigError) as caught:
        make_client(section(missing), "node-1")
    message = str(caught.value)
    assert message.startswith("mqtt.tls:") and str(missing) in message and "config check" in message


def test_a_ca_file_that_is_not_pem_is_refused_in_words(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match=r"mqtt\.tls: cannot load the TLS files"):
        make_client(section(garbage), "node-1")


def test_run_with_a_missing_ca_file_exits_with_one_line(tmp_path: Path) -> None:
    config = (REPO / "config" / "sim-node.toml").read_text()
    config = config.replace('state_dir = "var/demo/state"', f'state_dir = "{tmp_path / "state"}"')
    config = config.replace('port = "var/demo/shelf-tty"', f'port = "{tmp_path / "tty"}"')
    config += f'\n[mqtt.tls]\nca_file = "{tmp_path / "missing-ca.pem"}"\n'
    (tmp_path / "node.toml").write_text(config)
    result = subprocess.run([sys.executable, "-m", "edge", "run", "--config", str(tmp_path / "node.toml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot start: mqtt.tls: cannot load the TLS files" in result.stderr
