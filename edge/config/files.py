"""The files a valid config refers to: do they exist, can they be read, do their digests match?

`config check` runs this after the schema, so that a config it passes is not one that `run` refuses
for a missing secret, model, label or TLS file. Each problem names the key that refers to the file.
Checks run as the user who runs them: run `config check` as the service user to see its permissions.
A secret is read to check it, never shown.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from edge.config.messages import render_value
from edge.config.root import NodeConfig
from edge.config.secrets import CREDENTIAL, read_secret, secret_path
from edge.errors import SecretError


@dataclass(slots=True)
class FileReport:
    """`problems`: run would refuse or not work (key path first). `notes`: fine now, or not checkable here."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def check_files(config: NodeConfig, environ: Mapping[str, str] = os.environ) -> FileReport:
    report = FileReport()
    _check_state_dir(report, config.node.state_dir)
    if config.outbox.path is not None:
        _check_outbox(report, config.outbox.path)
    _check_secret(report, "mqtt.password", config.mqtt.password, environ)
    if config.mqtt.tls is not None:
        _check_tls(report, config.mqtt.tls.ca_file, config.mqtt.tls.cert_file, config.mqtt.tls.key_file)
    if config.detector is not None:
        _check_digest(report, "detector.model", config.detector.model, config.detector.model_sha256)
        _check_digest(report, "detector.labels", config.detector.labels, config.detector.labels_sha256)
    if config.fusion.planogram is not None:
        _readable(report, "fusion.planogram", config.fusion.planogram)
    if config.camera is not None:
        _check_device(report, "camera.source", config.camera.source)
    _check_device(report, "serial.port", config.serial.port)
    report.notes.extend(
        f"{key}: {path} is relative: the node resolves it against its working directory, which is / under "
        f"systemd (here it is {Path.cwd()})" for key, path in _relative_paths(config)
    )
    return report


def _relative_paths(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """Every path-valued key of `model` and its sections that is relative."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path) and not value.is_absolute():
            yield prefix + name, value
        elif isinstance(value, BaseModel):
            yield from _relative_paths(value, f"{prefix}{name}.")


def _check_state_dir(report: FileReport, state_dir: Path) -> None:
    key = "node.state_dir"
    if state_dir.is_dir():
        if os.access(state_dir, os.W_OK | os.X_OK):
            report.checked.append(str(state_dir))
        else:
            report.problems.append(f"{key}: {state_dir}: not writable; the node keeps calibration and the outbox "
                                   "there (chown it to the service user)")
    elif state_dir.exists():
        report.problems.append(f"{key}: {state_dir}: exists but is not a directory; fix node.state_dir")
    elif not state_dir.parent.is_dir():
        report.problems.append(f"{key}: {state_dir}: its parent {state_dir.parent} does not exist; is the path "
                               "mistyped? The node creates only the last component (as systemd's StateDirectory=)")
    else:
        report.notes.append(f"{key}: {state_dir} does not exist yet; the node creates it, empty (no calibration)")


def _check_outbox(report: FileReport, path: Path) -> None:
    if path.is_dir():
        report.problems.append(f"outbox.path: {path}: is a directory; name the SQLite file, e.g. {path}/outbox.sqlite3")
    elif not path.parent.is_dir():
        report.problems.append(f"outbox.path: {path}: its directory {path.parent} does not exist; fix the path")
    elif not os.access(path if path.exists() else path.parent, os.W_OK):
        report.problems.append(f"outbox.path: {path}: not writable; events could not be kept (fix its permissions)")
    else:
        report.checked.append(str(path))


def _check_secret(report: FileReport, key: str, reference: str | None, environ: Mapping[str, str]) -> None:
    if reference is None:
        return
    if reference.startswith(CREDENTIAL) and not environ.get("CREDENTIALS_DIRECTORY"):
        name = reference.removeprefix(CREDENTIAL)
        report.notes.append(
            f"{key}: {render_value(reference, limit=None)} not checked: $CREDENTIALS_DIRECTORY is not set here "
            f"(systemd sets it for the service); check the file of the unit's LoadCredential={name}:PATH exists"
        )
        return
    try:
        read_secret(reference, environ)
    except SecretError as exc:
        report.problems.append(f"{key}: {exc}")
    else:
        report.checked.append(reference)
        _note_if_public(report, key, secret_path(reference, environ))


def _check_tls(report: FileReport, ca_file: Path | None, cert_file: Path | None, key_file: Path | None) -> None:
    """The same loads paho's tls_set() does at start, so a file it would refuse is refused here."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file is not None and _readable(report, "mqtt.tls.ca_file", ca_file):
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except ssl.SSLError as exc:
            report.problems.append(f"mqtt.tls.ca_file: {ca_file}: not a PEM CA certificate ({exc.reason or exc})")
    if cert_file is None or key_file is None:
        return
    cert_ok = _readable(report, "mqtt.tls.cert_file", cert_file)
    if _readable(report, "mqtt.tls.key_file", key_file) and cert_ok:
        try:  # an empty passphrase: an encrypted key fails here instead of prompting on the terminal
            context.load_cert_chain(str(cert_file), str(key_file), password=lambda: b"")
        except ssl.SSLError as exc:
            report.problems.append(
                f"mqtt.tls.key_file: {key_file}: cannot be used with cert_file {cert_file} ({exc.reason or exc}); "
                "it must be the unencrypted PEM key of that certificate"
            )
        _note_if_public(report, "mqtt.tls.key_file", key_file)


def _note_if_public(report: FileReport, key: str, path: Path) -> None:
    """A secret every local user can read works, but should not: say so (run would not refuse it)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & stat.S_IROTH:
        report.notes.append(f"{key}: {path} is readable by every user (mode {mode:04o}); run: chmod o-r {path}")


def _check_digest(report: FileReport, key: str, path: Path, expected: str | None) -> None:
    if not _readable(report, key, path) or expected is None:
        return
    with path.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual != expected:
        report.problems.append(
            f"{key}_sha256: {path} has sha256 {actual}, not the configured {expected}; the file is corrupt or "
            f"another one (re-run scripts/get-model, or put its digest in {key}_sha256 if it was replaced on purpose)"
        )


def _check_device(report: FileReport, key: str, spec: str) -> None:
    """A device path that is absent now is a note (the node waits for it); a missing file is a problem."""
    if "://" in spec or spec.isdigit():
        return
    path = Path(spec)
    if path.exists():
        report.checked.append(spec)
    elif spec.startswith("/dev/"):
        report.notes.append(f"{key}: {spec} is not present now (unplugged?); the node retries until it appears")
    elif key == "serial.port":
        report.notes.append(f"{key}: {spec} does not exist now; the node retries until it appears (a simulator link?)")
    else:
        report.problems.append(f"{key}: {spec}: not found; fix the path (a video file or a directory of frames)")


def _readable(report: FileReport, key: str, path: Path) -> bool:
    try:
        with path.open("rb"):
            pass
    except IsADirectoryError:
        report.problems.append(f"{key}: {path}: is a directory; name the file")
        return False
    except OSError as exc:
        report.problems.append(f"{key}: {path}: cannot read: {exc.strerror or exc}; fix the path or its permissions")
        return False
    report.checked.append(str(path))
    return True
