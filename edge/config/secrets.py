"""Secrets are never inline in the config: they come from a file or systemd credentials.

A secret reference in the config is a string:
  "file:/etc/shelf-node/mqtt-password"   read that file
  "credential:mqtt-password"           read $CREDENTIALS_DIRECTORY/mqtt-password (LoadCredential=)
Trailing newlines are stripped.
"""

from __future__ import annotations

import os
from pathlib import Path

from edge.errors import SecretError


def read_secret(reference: str) -> str:
    if reference.startswith("file:"):
        path = Path(reference.removeprefix("file:"))
    elif reference.startswith("credential:"):
        name = reference.removeprefix("credential:")
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise SecretError(
                f"secret {reference!r}: $CREDENTIALS_DIRECTORY is not set; run under systemd with "
                f"LoadCredential={name}:/path or use 'file:/path' instead"
            )
        path = Path(directory) / name
    else:
        raise SecretError(
            f"secret {reference!r}: must be 'file:/path' or 'credential:NAME'; secrets are never inline"
        )
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretError(f"secret {reference!r}: cannot read {path}: {exc.strerror or exc}") from None


def validate_secret_reference(value: str | None) -> str | None:
    """Pydantic field validator helper: accept only file:/credential: references."""
    if value is None:
        return None
    if not (value.startswith("file:") or value.startswith("credential:")):
        raise ValueError("secrets are never inline: use 'file:/path/to/secret' or 'credential:NAME'")
    return value
