"""`shelf-node reload`: the running daemon re-reads its config and planogram files (as `systemctl reload`,
SIGHUP). A bad config is refused with its located problems; the daemon keeps the one it runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import emit, json_option
from edge.cli.control_common import ask, socket_option


@click.command()
@socket_option
@json_option
def reload(socket_path: Path | None, as_json: bool) -> None:
    """Re-read the config and the planogram file. Exit 0 when accepted, 2 when the config was refused."""
    answer = ask(socket_path, "reload")
    emit(answer, as_json, _render)
    raise SystemExit(0 if answer.get("accepted") else 2)


def _render(answer: dict[str, Any]) -> str:
    if not answer.get("accepted"):
        problems = answer.get("problems") or []
        return "\n".join(["refused: the daemon keeps running on the config it has", *[f"  {p}" for p in problems]])
    lines = [f"applied: {item}" for item in answer.get("applied") or []]
    restart = answer.get("needs_restart") or []
    if restart:
        lines.append(f"needs a restart to apply (systemctl restart shelf-node): {', '.join(restart)}")
    return "\n".join(lines) or "nothing changed"
