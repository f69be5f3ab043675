"""Issue 11 #23: README's promise about `--json` holds for every command, or README names the exception."""

from __future__ import annotations

import re
from pathlib import Path

import click

from edge.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    if not isinstance(command, click.Group):
        return [(path, command)]
    context = click.Context(command)
    found = []
    for name in command.list_commands(context):
        sub = command.get_command(context, name)
        assert sub is not None, name
        found.extend(_commands(sub, (*path, name)))
    return found


def test_every_command_without_json_is_named_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"JSON with `--json` \(except (.*?),\s+which print", text, re.S)
    assert match, "README must say which commands have no --json"
    named = set(re.findall(r"`([a-z -]+)`", match.group(1)))
    without = {" ".join(path) for path, command in _commands(cli)
               if not any("--json" in parameter.opts for parameter in command.params)}
    assert without, "the walk found the commands"
    assert without <= named, f"commands without --json that README does not name: {sorted(without - named)}"
    assert named <= without, f"README names commands that do have --json: {sorted(named - without)}"
