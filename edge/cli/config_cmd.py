"""`shelf-node config check FILE` and `config show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click

from edge.cli.common import emit, json_option, load_or_fail
from edge.config import NodeConfig, config_digest, load_config
from edge.config.files import FileReport, check_files
from edge.errors import ConfigError, ModelError


@click.group()
def config() -> None:
    """Check or show a configuration file."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--schema-only", is_flag=True,
              help="Check keys and values only, not the files they refer to (secrets, model, labels, TLS, dirs).")
@json_option
def check(file: Path, schema_only: bool, as_json: bool) -> None:
    """Validate FILE and the files it refers to, as `run` will; one line per problem, exit 2 if any.

    Referenced files are checked as the user running this command: run it as the service user
    (sudo -u shelf-node ...) to check their permissions too. Notes (exit 0) say what could not be
    checked here, or what the node will wait for (an unplugged serial port or camera).
    """
    try:
        node_config = load_config(file)
    except ConfigError as exc:
        _report(file, exc.problems, [], as_json)
    files = FileReport() if schema_only else check_files(node_config)
    notes = [f"{file}: {note}" for note in files.notes]
    problems = files.problems or ([] if schema_only else _loads_as_run_does(node_config))
    if problems:
        _report(file, [f"{file}: {line}" for line in problems], notes, as_json)
    digest = config_digest(node_config)
    result = {"ok": True, "file": str(file), "digest": digest, "plates": node_config.plate_names(),
              "checked": "schema" if schema_only else "schema and files", "files": files.checked, "notes": notes}
    what = ("schema only: referenced files not checked (--schema-only)" if schema_only
            else f"{len(files.checked)} referenced files and directories readable")
    if not as_json:
        for note in notes:
            click.echo(f"note: {note}", err=True)
    emit(result, as_json, lambda r: f"{file}: OK ({len(node_config.plates)} plates, {what}, digest {digest[:12]})")


def _loads_as_run_does(node_config: NodeConfig) -> list[str]:
    """The files that are there and readable, loaded the way `run` loads them: a model that is no TFLite
    model (a saved web page), a label file without labels, or a planogram file for other plates fails here."""
    problems = []
    if node_config.fusion.planogram is not None:
        from edge.planogram import load_planogram_file

        try:
            load_planogram_file(node_config.fusion.planogram, node_config.plate_names())
        except ConfigError as exc:
            problems += [f"fusion.planogram: {problem}" for problem in exc.problems]
    if node_config.detector is not None:
        from edge.vision.detector import Detector

        try:
            Detector.load(node_config.detector)
        except ModelError as exc:
            problems.append(f"detector: {exc}")
    return problems


def _report(file: Path, problems: list[str], notes: list[str], as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "file": str(file), "problems": problems, "notes": notes}, indent=2))
    else:
        for problem in problems:
            click.echo(problem, err=True)
        for note in notes:
            click.echo(f"note: {note}", err=True)
    raise SystemExit(2)


@config.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def show(file: Path) -> None:
    """Print the effective configuration (defaults filled in) as JSON.

    It can hold no secret: the config refuses inline secrets, so a password is a file: or credential: reference.
    """
    node_config = load_or_fail(file)
    click.echo(json.dumps(node_config.model_dump(mode="json"), indent=2))
