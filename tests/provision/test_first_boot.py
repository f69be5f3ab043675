"""Provisioning in a staged root: the example config as scripts/install leaves it, a boot partition
directory with a good, a bad or no node file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.config import load_config
from edge.config.secrets import read_secret
from edge.provision import provision, provisioning_problem

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "hunter2-correct-horse"
CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
GOOD = f'''store_id = "store-7"
node_id = "bay1-shelf2"

[broker]
host = "hub.store-7.lan"
username = "bay1-shelf2"
password = "{PASSWORD}"
ca_pem = """{CA}"""
'''


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "boot").mkdir()
    etc = tmp_path / "etc" / "shelf-node"
    (etc / "secrets").mkdir(parents=True)
    (etc / "config.toml").write_text((REPO / "config" / "example-node.toml").read_text())
    return tmp_path


def drop(root: Path, text: str | bytes) -> Path:
    path = root / "boot" / "shelf-node.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_good_node_file_becomes_the_config_and_the_secret(root: Path) -> None:
    etc = root / "etc" / "shelf-node"
    node_file = drop(root, GOOD)
    result = provision(root / "boot", etc)
    assert result.outcome == "provisioned" and result.config == etc / "config.toml"
    assert not node_file.exists() and list((root / "boot").iterdir()) == []
    config = load_config(etc / "config.toml")
    assert (config.node.store_id, config.node.node_id) == ("store-7", "bay1-shelf2")
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.username) == ("hub.store-7.lan", 8883, "bay1-shelf2")
    assert config.mqtt.password == "credential:mqtt-password"
    assert config.mqtt.tls is not None and config.mqtt.tls.ca_file == etc / "tls" / "ca.pem"
    assert (etc / "tls" / "ca.pem").read_text() == CA
    secret = etc / "secrets" / "mqtt-password"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.stat().st_uid == 0
    assert read_secret("credential:mqtt-password", {"CREDENTIALS_DIRECTORY": str(etc / "secrets")}) == PASSWORD
    text = (etc / "config.toml").read_text()
    assert PASSWORD not in text and "# Check it with:" in text  # the template's comments stay
    assert stat.S_IMODE((etc / "config.toml").stat().st_mode) == 0o640
    assert (etc / "config.toml.before-provision").read_text() == (REPO / "config" / "example-node.toml").read_text()
    assert config.serial.channels == 8  # the rest of the template untouched
    assert provisioning_problem(etc) is None


def test_a_bad_node_file_is_kept_with_its_problems_beside_it(root: Path) -> None:
    etc = root / "etc" / "shelf-node"
    before = (etc / "config.toml").read_text()
    bad = GOOD.replace('node_id = "bay1-shelf2"', 'node_id = "bay 1/shelf 2"').replace(
        'host = "hub.store-7.lan"\n', 'hots = "hub.store-7.lan"\n')
    drop(root, bad)
    result = provision(root / "boot", etc)
    assert result.outcome == "rejected"
    kept = root / "boot" / "shelf-node.toml.bad"
    assert kept.read_text() == bad and not (root / "boot" / "shelf-node.toml").exists()
    error = (root / "boot" / "shelf-node.toml.error.txt").read_text()
    assert "node_id" in error and "broker.host: required key is missing" in error
    assert "broker.hots: unknown key" in error and "rename it back to shelf-node.toml" in error
    assert PASSWORD not in error
    assert (etc / "config.toml").read_text() == before and not (etc / "secrets" / "mqtt-password").exists()
    problem = provisioning_problem(etc)
    assert problem is not None and "broker.host" in problem  # what the status LED's fault reports


def test_garbage_bytes_are_rejected_not_a_traceback(root: Path) -> None:
    drop(root, b"\xff\xfe\x00garbage")
    result = provision(root / "boot", root / "etc" / "shelf-node")
    assert result.outcome == "rejected" and "not UTF-8" in result.problems[0]


def test_a_password_without_a_user_and_a_ca_without_tls(root: Path) -> None:
    drop(root, GOOD.replace('username = "bay1-shelf2"\n', "").replace('ca_pem', 'tls = false\nca_pem'))
    result = provision(root / "boot", root / "etc" / "shelf-node")
    assert result.outcome == "rejected"
    assert any("broker.username: is missing" in p for p in result.problems), result.problems


def test_no_node_file_changes_nothing(root: Path) -> None:
    etc = root / "etc" / "shelf-node"
    before = sorted(p.name for p in etc.rglob("*"))
    assert provision(root / "boot", etc).outcome == "absent"
    assert sorted(p.name for p in etc.rglob("*")) == before


def test_a_good_file_after_a_bad_one_clears_the_fault(root: Path) -> None:
    etc = root / "etc" / "shelf-node"
    drop(root, "store_id = 5\n")
    assert provision(root / "boot", etc).outcome == "rejected"
    drop(root, GOOD.replace("ca_pem", "tls = false\n# ca_pem").replace('"""' + CA + '"""', '""'))
    assert provision(root / "boot", etc).outcome == "provisioned"
    assert sorted(p.name for p in (root / "boot").iterdir()) == []
    assert provisioning_problem(etc) is None
    config = load_config(etc / "config.toml")
    assert config.mqtt.tls is None and config.mqtt.port == 1883  # tls = false: plain MQTT, its default port


def test_the_cli_exit_codes_and_json(root: Path) -> None:
    etc = root / "etc" / "shelf-node"
    drop(root, "store_id = 5\n")
    rejected = CliRunner().invoke(cli, ["provision", "--boot", str(root / "boot"), "--etc", str(etc), "--json"])
    assert rejected.exit_code == 2 and json.loads(rejected.output)["outcome"] == "rejected"
    drop(root, GOOD)
    done = CliRunner().invoke(cli, ["provision", "--boot", str(root / "boot"), "--etc", str(etc)])
    assert done.exit_code == 0 and "provisioned" in done.output
    again = CliRunner().invoke(cli, ["provision", "--boot", str(root / "boot"), "--etc", str(etc)])
    assert again.exit_code == 0 and "nothing to provision" in again.output
