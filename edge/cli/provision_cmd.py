"""`shelf-node provision`: first boot, the node file from the boot partition into /etc/shelf-node
(systemd/shelf-node-provision.service runs it before the daemon; docs/install.md)."""

from __future__ import annotations

from pathlib import Path

import click

from edge.cli.common import emit, fail, json_option

EXIT = {"provisioned": 0, "absent": 0, "failed": 1, "rejected": 2}


@click.command()
@click.option("--boot", "boot", type=click.Path(file_okay=False, path_type=Path),
              help="Where the node file is (default: /boot/firmware or /boot, whichever holds shelf-node.toml).")
@click.option("--etc", "etc", type=click.Path(file_okay=False, path_type=Path), default=Path("/etc/shelf-node"),
              show_default=True, help="The node's configuration directory.")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path),
              help="Config to fill in (default: ETC/config.toml, as scripts/install leaves it).")
@json_option
def provision(boot: Path | None, etc: Path, template: Path | None, as_json: bool) -> None:
    """Validate BOOT/shelf-node.toml and move it into ETC (secret into ETC/secrets, mode 0600); a bad one is
    renamed shelf-node.toml.bad with the problems beside it. Exit 0 done or nothing to do, 2 rejected."""
    from edge.provision.first_boot import find_boot_dir
    from edge.provision.first_boot import provision as run_provision

    boot = boot or find_boot_dir()
    if boot is None:
        if as_json:
            emit({"outcome": "absent", "node_file": None, "config": None, "problems": []}, True, str)
        else:
            click.echo("no node file (shelf-node.toml) on /boot/firmware or /boot: nothing to provision")
        return
    result = run_provision(boot, etc, template)
    emit(result.to_json(), as_json, lambda data: _render(data))
    if result.outcome == "failed":
        fail(result.problems[0] if result.problems else "provisioning failed")
    raise SystemExit(EXIT[result.outcome])


def _render(data: dict[str, object]) -> str:
    outcome = data["outcome"]
    if outcome == "provisioned":
        return f"provisioned: {data['config']} written; the node file is removed from the boot partition"
    if outcome == "absent":
        return "no node file: nothing to provision"
    problems = data["problems"]
    assert isinstance(problems, list)
    return "\n".join([f"{outcome}: {data['node_file']}", *[f"  {p}" for p in problems]])
