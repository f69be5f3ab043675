"""`provision(boot, etc)`: the node file on the boot partition, validated, becomes /etc/shelf-node.

    good file  -> etc/config.toml (the template with [node] and [mqtt] set), etc/secrets/mqtt-password
                  (mode 0600, root), etc/tls/ca.pem when it carries a CA; the node file is overwritten and
                  removed from the boot partition
    bad file   -> renamed shelf-node.toml.bad, the problems beside it in shelf-node.toml.error.txt and in
                  etc/provision.error (the status LED shows a fault while it exists); nothing else changes
    no file    -> nothing to do

Nothing is written unless the whole result validates as a node config.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from edge.atomic_file import replace_atomically
from edge.config import NodeConfig
from edge.config.loader import parse_config
from edge.errors import ConfigError
from edge.provision.config_edit import remove_table, set_keys
from edge.provision.node_file import NodeFile, load_node_file

log = logging.getLogger(__name__)

NODE_FILE_NAME = "shelf-node.toml"
REJECTED_NAME = "shelf-node.toml.bad"
ERROR_NAME = "shelf-node.toml.error.txt"  # .txt: the installer opens it on any laptop
PROBLEM_FILE = "provision.error"
SECRET_NAME = "mqtt-password"
CA_NAME = "ca.pem"
BEFORE_NAME = "config.toml.before-provision"
SERVICE_GROUP = "shelf-node"
BOOT_DIRS = (Path("/boot/firmware"), Path("/boot"))  # Raspberry Pi OS since bookworm, then older ones

Outcome = Literal["provisioned", "rejected", "absent", "failed"]


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    outcome: Outcome
    node_file: Path | None
    config: Path | None = None
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "node_file": None if self.node_file is None else str(self.node_file),
                "config": None if self.config is None else str(self.config), "problems": list(self.problems)}


def find_boot_dir() -> Path | None:
    return next((d for d in BOOT_DIRS if (d / NODE_FILE_NAME).exists()), None)


def provisioning_problem(etc: Path) -> str | None:
    """Why the last node file was rejected, while it stands (for the LEDs and `status`)."""
    try:
        return (etc / PROBLEM_FILE).read_text(encoding="utf-8").strip() or "node file rejected"
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        return f"node file rejected ({etc / PROBLEM_FILE} unreadable: {exc})"


def provision(boot: Path, etc: Path, template: Path | None = None) -> ProvisionResult:
    node_path = boot / NODE_FILE_NAME
    if not node_path.exists():
        return ProvisionResult("absent", None)
    template = template or etc / "config.toml"
    try:
        template_text = template.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read the config template {template}: {exc}; run scripts/install first"
        log.error("provisioning: %s (the node file stays on the boot partition)", message)
        return ProvisionResult("failed", node_path, problems=(message,))
    try:
        node = load_node_file(node_path)
        config_text = render_config(template_text, node, etc, template)
    except ConfigError as exc:
        return _reject(node_path, etc, exc.problems)
    try:
        config_path = _install(node, config_text, etc)
    except OSError as exc:
        message = f"cannot write into {etc}: {exc.strerror or exc}; fix that and reboot (the node file is kept)"
        log.error("provisioning: %s", message)
        return ProvisionResult("failed", node_path, problems=(message,))
    _scrub(node_path)
    for stale in (boot / REJECTED_NAME, boot / ERROR_NAME, etc / PROBLEM_FILE):
        stale.unlink(missing_ok=True)
    log.info("provisioned %s/%s from %s into %s; the node file is removed from the boot partition",
             node.store_id, node.node_id, node_path, config_path)
    return ProvisionResult("provisioned", node_path, config_path)


def render_config(template_text: str, node: NodeFile, etc: Path, template: Path) -> str:
    """The template with the node file's identity and broker; ConfigError if the result is no valid config."""
    broker = node.broker
    text = set_keys(template_text, "node", {"store_id": node.store_id, "node_id": node.node_id})
    text = set_keys(text, "mqtt", {
        "host": broker.host, "port": broker.effective_port, "username": broker.username,
        "password": f"credential:{SECRET_NAME}" if broker.password is not None else None,
    })
    if not broker.tls:
        text = remove_table(text, "mqtt.tls")
    elif broker.ca_pem is not None:
        text = set_keys(text, "mqtt.tls", {"ca_file": str(etc / "tls" / CA_NAME)})
    else:
        text = set_keys(text, "mqtt.tls", {})
    config = parse_config(text, f"{template} with the node file applied")
    _check_landed(config, node, template)
    return text


def _check_landed(config: NodeConfig, node: NodeFile, template: Path) -> None:
    expected = (node.store_id, node.node_id, node.broker.host, node.broker.effective_port, node.broker.username,
                node.broker.tls)
    found = (config.node.store_id, config.node.node_id, config.mqtt.host, config.mqtt.port, config.mqtt.username,
             config.mqtt.tls is not None)
    if found != expected:
        raise ConfigError(f"{template}: its [node] or [mqtt] tables are written in a way provisioning cannot edit "
                          f"(multi-line or dotted keys?); write them as plain 'key = value' lines")


def _reject(node_path: Path, etc: Path, problems: list[str]) -> ProvisionResult:
    rejected = node_path.with_name(REJECTED_NAME)
    text = "\n".join([*problems, "", f"Fix {rejected.name}, rename it back to {NODE_FILE_NAME} and reboot "
                                     f"(see docs/install.md)."]) + "\n"
    log.error("provisioning: the node file %s is rejected:\n  %s", node_path, "\n  ".join(problems))
    try:
        os.replace(node_path, rejected)
        replace_atomically(node_path.with_name(ERROR_NAME), text)
        etc.mkdir(parents=True, exist_ok=True)
        replace_atomically(etc / PROBLEM_FILE, text)
        (etc / PROBLEM_FILE).chmod(0o644)
    except OSError as exc:
        log.error("provisioning: cannot record the rejection: %s", exc)
    return ProvisionResult("rejected", rejected, problems=tuple(problems))


def _install(node: NodeFile, config_text: str, etc: Path) -> Path:
    etc.mkdir(parents=True, exist_ok=True)
    config_path = etc / "config.toml"
    if config_path.exists() and not (etc / BEFORE_NAME).exists():
        replace_atomically(etc / BEFORE_NAME, config_path.read_bytes())
    if node.broker.ca_pem is not None:
        replace_atomically(etc / "tls" / CA_NAME, node.broker.ca_pem.strip() + "\n")
        (etc / "tls" / CA_NAME).chmod(0o644)
    if node.broker.password is not None:
        secrets = etc / "secrets"
        secrets.mkdir(mode=0o750, exist_ok=True)
        # mkstemp makes the file 0600 before a byte is written; LoadCredential= reads it as root
        replace_atomically(secrets / SECRET_NAME, node.broker.password + "\n")
        _own(secrets / SECRET_NAME, 0o600, group=None)
    replace_atomically(config_path, config_text)
    _own(config_path, 0o640, group=SERVICE_GROUP)
    return config_path


def _own(path: Path, mode: int, group: str | None) -> None:
    """root-owned (when we are root) with `mode`; `group` (when it exists) may read."""
    path.chmod(mode)
    if os.geteuid() != 0:
        return
    gid = 0
    if group is not None:
        with contextlib.suppress(KeyError):
            gid = grp.getgrnam(group).gr_gid
    os.chown(path, 0, gid)


def _scrub(path: Path) -> None:
    """Overwrite the node file (it holds the password) before removing it, then sync its directory."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as file:
            file.write(b"\0" * size)
            file.flush()
            os.fsync(file.fileno())
        path.unlink()
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        log.warning("provisioning: could not remove %s from the boot partition (%s); delete it by hand: it "
                    "holds the broker password", path, exc)
