"""What `shelf-node support-bundle` collects, each part a (name, bytes) or a reason it is missing.

Secrets never leave: the config's secret-named keys are redacted, the TLS private key is never read, and
every member is scrubbed of each secret the config refers to (read here only to be removed), so a password
that reached a log line is masked too."""

from __future__ import annotations

import base64
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge import __version__
from edge.config import NodeConfig
from edge.config.messages import is_secret_key
from edge.config.secrets import read_secret
from edge.control.client import ControlClient
from edge.control.protocol import ControlError
from edge.errors import SecretError

REDACTED = "<redacted>"
LIBRARIES = ("paho-mqtt", "pyserial", "numpy", "opencv-python-headless", "ai-edge-litert", "tflite-runtime",
             "pydantic", "click", "jsonschema", "simplejpeg", "gpiozero", "lgpio", "RPi.GPIO")
LOG_BYTES = 2_000_000  # the tail of each log file
JOURNAL_LINES = "5000"
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.\-]+)(\s*=\s*)(.*)$")


@dataclass
class Bundle:
    members: dict[str, bytes] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # name -> why it is not there

    def add_text(self, name: str, text: str) -> None:
        self.members[name] = text.encode("utf-8")

    def add_json(self, name: str, data: Any) -> None:
        self.add_text(name, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def redact_config_text(text: str) -> str:
    """Every `key = value` line whose key names a secret, value replaced (the references too)."""
    lines = []
    for line in text.splitlines():
        match = KEY_LINE.match(line)
        if match and is_secret_key((match.group(2),)):
            line = f"{match.group(1)}{match.group(2)}{match.group(3)}\"{REDACTED}\""
        lines.append(line)
    return "\n".join(lines) + "\n"


def secret_values(config: NodeConfig, config_dir: Path) -> list[str]:
    """The secrets the config refers to, read only so they can be scrubbed from the bundle. Outside systemd a
    'credential:' secret is looked for where the unit's LoadCredential= takes it: CONFIG_DIR/secrets."""
    environ = {"CREDENTIALS_DIRECTORY": str(config_dir / "secrets"), **os.environ}
    values = []
    if config.mqtt.password:
        with contextlib.suppress(SecretError):  # unreadable here: it cannot leak from here either
            values.append(read_secret(config.mqtt.password, environ))
    return [v for v in values if len(v) >= 4]  # shorter ones would mangle the bundle, not protect it


def scrub(data: bytes, secrets: Iterable[str]) -> bytes:
    for secret in secrets:
        data = data.replace(secret.encode("utf-8"), REDACTED.encode())
    return data


def collect_config(bundle: Bundle, config_path: Path, config: NodeConfig | None) -> None:
    try:
        bundle.add_text("config/config.toml", redact_config_text(config_path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        bundle.missing["config/config.toml"] = f"cannot read {config_path}: {exc}"
    if config is not None:
        from edge.mqtt.commands import redacted_config

        bundle.add_json("config/effective.json", redacted_config(config))


def collect_versions(bundle: Bundle) -> None:
    libraries: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            libraries[name] = None
    model = Path("/proc/device-tree/model")
    bundle.add_json("versions.json", {
        "shelf-node": __version__, "python": sys.version, "executable": sys.executable,
        "platform": platform.platform(), "machine": platform.machine(),
        "board": model.read_text(errors="replace").strip("\0\n") if model.exists() else None,
        "libraries": libraries})


def collect_daemon(bundle: Bundle, socket_path: Path | None, with_snapshot: bool) -> None:
    try:
        client = ControlClient(socket_path, timeout_s=15).connect()
    except ControlError as exc:
        for name in ("daemon/status.json", "daemon/commands.json"):
            bundle.missing[name] = exc.message
        return
    with client:
        for name, cmd in (("daemon/status.json", "status"), ("daemon/commands.json", "help"),
                          ("daemon/weights.json", "weights"), ("daemon/events.json", "events")):
            try:
                bundle.add_json(name, client.request(cmd))
            except ControlError as exc:
                bundle.missing[name] = f"{exc.code}: {exc.message}"
        if not with_snapshot:
            return
        try:
            answer = client.request("snapshot")
            bundle.members["daemon/snapshot.jpg"] = base64.b64decode(answer["jpeg_base64"])
        except (ControlError, KeyError, ValueError) as exc:
            bundle.missing["daemon/snapshot.jpg"] = str(exc)


def collect_logs(bundle: Bundle, logs_dir: Path, journal: bool) -> None:
    if journal and shutil.which("journalctl"):
        result = _run(["journalctl", "-u", "shelf-node", "-u", "shelf-node-provision", "-n", JOURNAL_LINES,
                       "--no-pager", "-o", "short-iso"])
        if result is not None:
            bundle.add_text("logs/journal.txt", result)
    else:
        bundle.missing["logs/journal.txt"] = "journalctl not available" if journal else "--no-journal"
    if logs_dir.is_dir():
        for path in sorted(logs_dir.glob("*")):
            if path.is_file():
                with path.open("rb") as file:
                    size = path.stat().st_size
                    file.seek(max(0, size - LOG_BYTES))
                    bundle.members[f"logs/{path.name}"] = file.read()


def collect_system(bundle: Bundle) -> None:
    if shutil.which("systemd-analyze"):
        text = _run(["systemd-analyze", "security", "--no-pager", "shelf-node.service"])
        if text is not None:
            bundle.add_text("system/systemd-analyze-security.txt", text)
            return
    bundle.missing["system/systemd-analyze-security.txt"] = "systemd-analyze not available or the unit not installed"


def collect_provisioning(bundle: Bundle, etc: Path, boot_dirs: Iterable[Path]) -> None:
    """The rejection messages, never the rejected node file (it holds the password)."""
    for path in [etc / "provision.error", *(d / "shelf-node.toml.error.txt" for d in boot_dirs)]:
        if path.is_file():
            bundle.members[f"provision/{path.parent.name}-{path.name}"] = path.read_bytes()


def _run(args: list[str]) -> str | None:
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout + (f"\n[stderr]\n{result.stderr}" if result.stderr.strip() else "")
