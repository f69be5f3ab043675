"""`shelf-node support-bundle OUT.tar.gz`: what support needs in one file, secrets redacted."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import click

from edge.cli.common import config_option, fail
from edge.cli.control_common import socket_option
from edge.config import load_config
from edge.errors import ConfigError


@click.command("support-bundle")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@socket_option
@click.option("--logs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/var/log/shelf-node"),
              show_default=True, help="The unit's LogsDirectory=.")
@click.option("--journal/--no-journal", default=True, show_default=True, help="Include journalctl -u shelf-node.")
@click.option("--snapshot/--no-snapshot", default=True, show_default=True, help="A camera frame from the daemon.")
def support_bundle(out: Path, config_path: Path, socket_path: Path | None, logs_dir: Path, journal: bool,
                   snapshot: bool) -> None:
    """Config (secrets redacted), logs, daemon status and stats, a snapshot, versions and the unit's
    `systemd-analyze security`, in OUT.tar.gz. Works with the daemon stopped (its parts are then listed as
    missing, with why)."""
    from edge.cli import bundle_parts as parts
    from edge.provision.first_boot import BOOT_DIRS

    bundle = parts.Bundle()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        config = None
        bundle.add_text("config/problems.txt", "\n".join(exc.problems) + "\n")
    parts.collect_config(bundle, config_path, config)
    parts.collect_versions(bundle)
    parts.collect_daemon(bundle, socket_path, snapshot)
    parts.collect_logs(bundle, logs_dir, journal)
    parts.collect_system(bundle)
    parts.collect_provisioning(bundle, config_path.parent, BOOT_DIRS)
    secrets = parts.secret_values(config, config_path.parent) if config is not None else []
    bundle.add_json("manifest.json", {"created_unix": round(time.time(), 3), "members": sorted(bundle.members),
                                      "missing": bundle.missing, "secrets_scrubbed": len(secrets)})
    try:
        _write(out, {name: parts.scrub(data, secrets) for name, data in bundle.members.items()})
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{out}: {len(bundle.members)} files ({len(bundle.missing)} missing, see manifest.json)")
    for name, why in sorted(bundle.missing.items()):
        click.echo(f"  missing {name}: {why}")


def _write(out: Path, members: dict[str, bytes]) -> None:
    stem = out.name.removesuffix(".tar.gz").removesuffix(".tgz") or "shelf-node-support"
    with tarfile.open(out, "w:gz") as archive:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{stem}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            archive.addfile(info, io.BytesIO(data))
    out.chmod(0o600)  # logs and status may still say more than the world should read
