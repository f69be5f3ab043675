"""The shipped example configs load, the generated reference is current, secrets come from files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import load_config
from edge.config.reference import render
from edge.config.secrets import read_secret
from edge.errors import SecretError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["example-node.toml", "sim-node.toml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / "config" / name)
    assert len(config.plates) == 4


def test_docs_config_reference_is_current() -> None:
    documented = (REPO / "docs" / "config.md").read_text()
    assert documented == render(), "docs/config.md is stale: run python -m edge.config.reference > docs/config.md"


def test_config_check_cli_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((REPO / "config" / "sim-node.toml").read_text().replace("channels = 8", "channels = 8\nbogus = 1"))
    good = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(REPO / "config" / "sim-node.toml")],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    result = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{bad}: serial.bogus: unknown key" in result.stderr


def test_secret_from_file_and_credentials_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    assert read_secret(f"file:{tmp_path / 'pw'}") == "s3cret"
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_secret("credential:pw") == "s3cret"


@pytest.mark.parametrize(("reference", "message"), [
    ("hunter2", "secrets are never inline|must be 'file:/path' or 'credential:NAME'"),
    ("file:/nonexistent/pw", "cannot read /nonexistent/pw"),
])
def test_bad_secret_references_say_what_to_do(reference: str, message: str) -> None:
    with pytest.raises(SecretError, match=message):
        read_secret(reference)


def test_credential_without_systemd_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(SecretError, match=r"\$CREDENTIALS_DIRECTORY is not set"):
        read_secret("credential:mqtt-password")
