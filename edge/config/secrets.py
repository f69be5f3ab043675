"""Secrets are never inline in the config: they come from a file or systemd credentials.

A secret reference in the config is a string:
  "file:/etc/shelf-node/mqtt-password"   read that file
  "credential:mqtt-password"           read $CREDENTIALS_DIRECTORY/mqtt-password (LoadCredential=)
Trailing newlines are stripped. A secret itself is never printed: an inline value is described by its
length only, and the error messages here name the reference and the file, never what the file holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from edge.config.messages import hidden_value, render_value
from edge.errors import SecretError

FILE = "file:"
CREDENTIAL = "credential:"


def read_secret(reference: str, environ: Mapping[str, str] = os.environ) -> str:
    """The secret `reference` points to; SecretError (without the secret) if it cannot be read or is empty."""
    path = secret_path(reference, environ)
    shown = render_value(reference, limit=None)
    try:
        secret = path.read_text(encoding="utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SecretError(f"secret {shown}: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise SecretError(
            f"secret {shown}: cannot read {path}: {exc.strerror or exc}; "
            "create it (mode 0640, the secret on one line) or fix the reference"
        ) from None
    if not secret:
        raise SecretError(f"secret {shown}: {path} is empty; write the secret into it")
    return secret


def secret_path(reference: str, environ: Mapping[str, str] = os.environ) -> Path:
    """The file a reference names; SecretError if it is no reference or $CREDENTIALS_DIRECTORY is missing."""
    problem = reference_problem(reference)
    if problem is not None:
        raise SecretError(f"secret ({hidden_value(reference)}): {problem}")
    if reference.startswith(FILE):
        return Path(reference.removeprefix(FILE))
    name = reference.removeprefix(CREDENTIAL)
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise SecretError(
            f"secret {render_value(reference, limit=None)}: $CREDENTIALS_DIRECTORY is not set; run under systemd with "
            f"LoadCredential={name}:/path or use 'file:/path' instead"
        )
    return Path(directory) / name


def reference_problem(value: str) -> str | None:
    """What is wrong with a secret reference, or None. Never quotes the value: it may be the secret."""
    if value.startswith(FILE):
        return None if value.removeprefix(FILE).strip() else "'file:' needs a path, e.g. 'file:/etc/shelf-node/pw'"
    if value.startswith(CREDENTIAL):
        name = value.removeprefix(CREDENTIAL)
        if not name or "/" in name or name in {".", ".."}:
            return "'credential:' needs a credential name without '/', as in LoadCredential=NAME:/path"
        return None
    return "secrets are never inline: use 'file:/path/to/secret' or 'credential:NAME'"


def validate_secret_reference(value: str | None) -> str | None:
    """Pydantic field validator helper: accept only file:/credential: references."""
    if value is None:
        return None
    problem = reference_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value
