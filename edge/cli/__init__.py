"""`shelf-node` command line: one module per command group, imported only when used.

Conventions: human tables by default, `--json` for machines, exit 0 only on success,
errors on stderr in one line that says what to do.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from edge import __version__

DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

# command name -> "module:attribute"; modules load lazily so `shelf-node --help` stays fast
# and hardware libraries (cv2, LiteRT, pyserial) are imported only by the commands that use them.
COMMANDS: dict[str, str] = {
    "run": "edge.cli.run_cmd:run",
    "config": "edge.cli.config_cmd:config",
    "sim": "edge.cli.sim_cmd:sim",
    "serial": "edge.cli.serial_cmd:serial",
    "replay": "edge.cli.replay_cmd:replay",
    "calibration": "edge.cli.calibration_cmd:calibration",
    "outbox": "edge.cli.outbox_cmd:outbox",
    "hub": "edge.cli.hub_cmd:hub",
    "detect": "edge.cli.detect_cmd:detect",
    "camera": "edge.cli.camera_cmd:camera",
    "demo": "edge.cli.demo_cmd:demo",
    "planogram": "edge.cli.planogram_cmd:planogram",
    "mqtt": "edge.cli.mqtt_cmd:mqtt",
    "provision": "edge.cli.provision_cmd:provision",
    "status": "edge.cli.status_cmd:status",
    "weights": "edge.cli.status_cmd:weights",
    "tare": "edge.cli.scale_cmd:tare",
    "calibrate": "edge.cli.scale_cmd:calibrate",
    "events": "edge.cli.events_cmd:events",
    "maintenance": "edge.cli.maintenance_cmd:maintenance",
    "support-bundle": "edge.cli.bundle_cmd:support_bundle",
    "selftest": "edge.cli.selftest_cmd:selftest",
    "reload": "edge.cli.reload_cmd:reload",
    "gallery": "edge.cli.gallery_cmd:gallery",
    "review": "edge.cli.review_cmd:review",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shelf-node")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    envvar="SHELF_NODE_LOG_LEVEL",
)
@click.option("--log-levels", default="", envvar="SHELF_NODE_LOG_LEVELS",
              help="Per component, e.g. edge.mqtt=debug,edge.vision=warning.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="SHELF_NODE_LOG_FORMAT", help="json: one JSON object per line. Under systemd text lines "
                                                   "carry no timestamp (journald adds it).")
def cli(log_level: str, log_levels: str, log_format: str) -> None:
    """shelf-node: smart-shelf node daemon and technician tools."""
    from edge.cli.log_setup import configure

    try:
        configure(log_level, log_levels, log_format)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--log-levels") from None


def main() -> None:
    try:
        try:
            cli(prog_name="shelf-node")
        finally:
            sys.stdout.flush()  # a full disk under a redirected stdout shows here, not as an error at exit
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        # stdout's buffer still holds what could not be written: point the descriptor at /dev/null so the
        # flush at exit does not fail a second time
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        click.echo(f"shelf-node: cannot write: {exc.strerror}; free space on the disk that holds the output "
                   "(or the file the command writes) and run it again", err=True)
        sys.exit(1)
