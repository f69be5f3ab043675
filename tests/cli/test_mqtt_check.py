"""`shelf-node mqtt check` against a real mosquitto: each failure named in plain words with its fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from edge.cli import cli
from edge.demo.broker import free_port
from tests.mqtt.certs import Pki, _cert, _key, _write_key, make_pki
from tests.mqtt.nodecfg import NODE, STORE, write_config
from tests.plugins.broker import Broker, write_password_file

CHECK_TOPIC = f"shelf/{STORE}/{NODE}/check"


def run_check(config: Path) -> dict[str, Any]:
    """The JSON report; the exit code is 0 exactly when every step passed."""
    result = CliRunner().invoke(cli, ["mqtt", "check", "--config", str(config), "--json", "--timeout", "3"])
    report: dict[str, Any] = json.loads(result.output)
    assert result.exit_code == (0 if report["ok"] else 1)
    return report


def failed_step(report: dict[str, Any]) -> dict[str, Any]:
    assert not report["ok"]
    failed = [step for step in report["steps"] if not step["ok"]]
    assert len(failed) == 1 and report["steps"][-1] is not None
    return failed[0]


def secure(tmp_path: Path, factory: Callable[..., Broker], acl_lines: list[str],
           pki: Pki | None = None) -> tuple[Broker, Pki]:
    pki = pki or make_pki(tmp_path / "pki")
    passwords = write_password_file(tmp_path / "passwd", {"node": "node-secret"})
    acl = tmp_path / "acl"
    acl.write_text("\n".join(["user node", *acl_lines, ""]))
    broker = factory(extra_conf=[f"cafile {pki.ca}", f"certfile {pki.server_cert}", f"keyfile {pki.server_key}",
                                 "require_certificate true", "allow_anonymous false",
                                 f"password_file {passwords}", f"acl_file {acl}"])
    return broker, pki


def secure_config(tmp_path: Path, broker: Broker, pki: Pki, password: str = "node-secret",
                  **tls: Any) -> Path:
    secret = tmp_path / "node-password"
    secret.write_text(password + "\n")
    return write_config(tmp_path, broker.port, mqtt={"username": "node", "password": f"file:{secret}"},
                        tls={"ca_file": pki.ca, "cert_file": pki.client_cert, "key_file": pki.client_key, **tls})


def test_a_good_broker_passes_every_step(tmp_path: Path, broker: Broker) -> None:
    report = run_check(write_config(tmp_path, broker.port))
    assert report["ok"] is True
    assert [s["name"] for s in report["steps"]] == ["credentials", "dns", "tcp", "connect", "round_trip"]
    assert CHECK_TOPIC in report["steps"][-1]["detail"]


def test_human_output_says_ok(tmp_path: Path, broker: Broker) -> None:
    result = CliRunner().invoke(cli, ["mqtt", "check", "--config", str(write_config(tmp_path, broker.port))])
    assert result.exit_code == 0 and f"broker 127.0.0.1:{broker.port}: OK" in result.output


def test_a_name_that_does_not_resolve(tmp_path: Path) -> None:
    report = run_check(write_config(tmp_path, 1883, mqtt={"host": "no-such-broker.invalid"}))
    step = failed_step(report)
    assert step["name"] == "dns" and "does not resolve" in step["detail"]
    assert "getent hosts no-such-broker.invalid" in step["fix"]


def test_a_port_nobody_listens_on(tmp_path: Path) -> None:
    report = run_check(write_config(tmp_path, free_port()))
    step = failed_step(report)
    assert step["name"] == "tcp" and "refused the connection" in step["detail"]
    assert "is the broker running" in step["fix"]


def test_tls_with_the_wrong_ca(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker, pki = secure(tmp_path, mosquitto_factory, [f"topic readwrite shelf/{STORE}/{NODE}/#"])
    report = run_check(secure_config(tmp_path, broker, pki, ca_file=pki.other_ca))
    step = failed_step(report)
    assert step["name"] == "tls" and "not trusted" in step["detail"] and "ca_file" in step["fix"]


def pki_for_another_host(directory: Path) -> Pki:
    """A PKI whose broker certificate names only broker.example (no subjectAltName for 127.0.0.1)."""
    directory.mkdir(parents=True)
    ca_key, server_key, client_key = _key(), _key(), _key()
    ca = _cert("shelf-test-ca", ca_key, None, ca_key, ca=True)
    server = _cert("broker.example", server_key, ca.subject, ca_key, ca=False, san=False)
    client = _cert("node7", client_key, ca.subject, ca_key, ca=False)
    paths = {}
    for name, cert in (("ca.pem", ca), ("server.pem", server), ("client.pem", client)):
        paths[name] = directory / name
        paths[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Pki(ca=paths["ca.pem"], server_cert=paths["server.pem"],
               server_key=_write_key(server_key, directory / "server.key"), client_cert=paths["client.pem"],
               client_key=_write_key(client_key, directory / "client.key"), other_ca=paths["ca.pem"])


def test_tls_certificate_for_another_host_name(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    pki = pki_for_another_host(tmp_path / "pki")
    broker, _ = secure(tmp_path, mosquitto_factory, [f"topic readwrite shelf/{STORE}/{NODE}/#"], pki=pki)
    report = run_check(secure_config(tmp_path, broker, pki))
    step = failed_step(report)
    assert step["name"] == "tls" and "not issued for '127.0.0.1'" in step["detail"]
    assert "subjectAltName" in step["fix"]


def test_tls_without_a_client_certificate(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker, pki = secure(tmp_path, mosquitto_factory, [f"topic readwrite shelf/{STORE}/{NODE}/#"])
    secret = tmp_path / "node-password"
    secret.write_text("node-secret\n")
    config = write_config(tmp_path, broker.port, mqtt={"username": "node", "password": f"file:{secret}"},
                          tls={"ca_file": pki.ca})
    step = failed_step(run_check(config))
    assert step["name"] == "tls" and "client certificate" in step["detail"] and "cert_file" in step["fix"]


def test_a_wrong_password(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker, pki = secure(tmp_path, mosquitto_factory, [f"topic readwrite shelf/{STORE}/{NODE}/#"])
    report = run_check(secure_config(tmp_path, broker, pki, password="wrong"))
    step = failed_step(report)
    assert step["name"] == "auth" and "refused user node: wrong user name or password" in step["detail"]
    assert "mosquitto_passwd" in step["fix"]
    assert [s["name"] for s in report["steps"][:-1]] == ["credentials", "dns", "tcp", "tls"]


def test_an_acl_without_the_check_topic(tmp_path: Path, mosquitto_factory: Callable[..., Broker]) -> None:
    broker, pki = secure(tmp_path, mosquitto_factory, [f"topic write shelf/{STORE}/{NODE}/events",
                                                       f"topic read shelf/{STORE}/{NODE}/cmd/#"])
    report = run_check(secure_config(tmp_path, broker, pki))
    step = failed_step(report)
    assert step["name"] == "acl" and CHECK_TOPIC in step["detail"]
    assert f"topic readwrite {CHECK_TOPIC}" in step["fix"]


def test_a_missing_password_file(tmp_path: Path, broker: Broker) -> None:
    config = write_config(tmp_path, broker.port, mqtt={"username": "node",
                                                       "password": f"file:{tmp_path / 'nope'}"})
    step = failed_step(run_check(config))
    assert step["name"] == "credentials" and "cannot read" in step["detail"]
