"""Live reload (SIGHUP, `shelf-node reload`): re-read the config file and the planogram file without
losing state or events. A config that does not validate is refused with the same located messages as
`config check`, and the daemon keeps running on the one it has. Settings that only a restart applies are
named in the log and the answer; the running config stays the one it started with until then.

Live: the `[fusion] planogram` file (re-read each time, also when only its content changed).
Everything else: restart (`systemctl restart shelf-node`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import NodeConfig, load_config
from edge.errors import ConfigError
from edge.planogram import Planogram, load_planogram_file

log = logging.getLogger(__name__)

LIVE_KEYS = frozenset({"fusion.planogram"})


@dataclass(frozen=True, slots=True)
class ReloadResult:
    accepted: bool
    applied: tuple[str, ...] = ()  # what changed now, e.g. "planogram shelf-7 v4"
    needs_restart: tuple[str, ...] = ()  # keys that differ from the running config
    problems: tuple[str, ...] = ()  # why the file was refused (located, as config check)

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "applied": list(self.applied), "needs_restart": list(self.needs_restart),
                "problems": list(self.problems)}


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two JSON-like trees (lists compared whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys: list[str] = []
        for key in sorted(set(old) | set(new)):
            keys += changed_keys(old.get(key), new.get(key), f"{prefix}{key}.")
        return keys
    return [] if old == new else [prefix.rstrip(".")]


def reload_config(running: NodeConfig, path: Path | None, apply_planogram: Callable[[Planogram], None]) -> ReloadResult:
    if path is None:
        return _refused(["the daemon was started without a config file to re-read"])
    try:
        new = load_config(path)
    except ConfigError as exc:
        return _refused(exc.problems)
    changes = changed_keys(running.model_dump(mode="json"), new.model_dump(mode="json"))
    applied: list[str] = []
    if new.fusion.planogram is not None:
        try:
            planogram = load_planogram_file(new.fusion.planogram, new.plate_names())
        except ConfigError as exc:
            return _refused(exc.problems)
        apply_planogram(planogram)
        applied.append(f"planogram {planogram.id} v{planogram.version} from {new.fusion.planogram}")
    restart = [key for key in changes if key not in LIVE_KEYS]
    for line in applied:
        log.info("reload: applied %s", line)
    if restart:
        log.warning("reload: %s changed; these settings need a restart to apply (systemctl restart shelf-node); "
                    "running on with the old values", ", ".join(restart))
    elif not applied:
        log.info("reload: %s: nothing changed", path)
    return ReloadResult(True, tuple(applied), tuple(restart))


def _refused(problems: Iterable[str]) -> ReloadResult:
    problems = tuple(problems)
    for problem in problems:
        log.error("reload refused: %s", problem)
    log.error("reload refused: the daemon keeps running on the config it has; fix the file and reload again")
    return ReloadResult(False, problems=problems)
