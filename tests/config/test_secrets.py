"""Secrets come from files or systemd credentials, and no message ever holds one (issue 11 item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config.secrets import read_secret
from edge.errors import SecretError


def test_secret_from_file_and_credentials_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    assert read_secret(f"file:{tmp_path / 'pw'}") == "s3cret"
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_secret("credential:pw") == "s3cret"


@pytest.mark.parametrize(("reference", "message"), [
    ("hunter2", r"secret \(an inline value, 7 characters, not shown\): secrets are never inline"),
    ("file:/nonexistent/pw", "cannot read /nonexistent/pw: No such file or directory; create it"),
    ("file:", "'file:' needs a path"),
    ("credential:../../etc/shadow", "needs a credential name without '/'"),
])
def test_bad_secret_references_say_what_to_do(reference: str, message: str) -> None:
    with pytest.raises(SecretError, match=message) as info:
        read_secret(reference)
    assert "hunter2" not in str(info.value)


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    with pytest.raises(SecretError, match="is empty; write the secret into it"):
        read_secret(f"file:{tmp_path / 'pw'}")


def test_a_secret_file_is_never_quoted_in_errors(tmp_path: Path) -> None:
    (tmp_path / "pw").write_bytes(b"hunter2\xff\n")
    with pytest.raises(SecretError, match="is not UTF-8 text") as info:
        read_secret(f"file:{tmp_path / 'pw'}")
    assert "hunter2" not in str(info.value)


def test_credential_without_systemd_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(SecretError, match=r"\$CREDENTIALS_DIRECTORY is not set"):
        read_secret("credential:mqtt-password")
