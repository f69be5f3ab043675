"""`shelf-node calibration show|undo|reset|confirm-board`: the calibration file in the state directory, offline.

These read and write `state_dir/calibration.json` directly, so they work with the daemon stopped
(and on a corrupt file). The running daemon holds its calibration in memory and would overwrite a
change at its next tare, so the commands that change the file refuse while it runs: stop it, or use
the MQTT commands (`undo-calibration`, `reset-calibration`, `confirm-board`) that act on it live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, fail, json_option, load_or_fail, run_guarded, table
from edge.config import NodeConfig
from edge.loadcell.reader import daemon_holding
from edge.weighing.calibration import Calibration
from edge.weighing.store import CalibrationStore, default_counts_per_gram


@click.group()
def calibration() -> None:
    """Show, undo or reset the stored calibration (daemon stopped)."""


def _store(config: NodeConfig) -> CalibrationStore:
    return CalibrationStore.in_state_dir(config.node.state_dir)


def _load(config: NodeConfig, store: CalibrationStore) -> Calibration:
    return run_guarded(lambda: store.load(config.serial.channels, default_counts_per_gram(config)))


def _refuse_while_the_daemon_runs(config: NodeConfig) -> None:
    """Also refuse a state directory that does not exist: a mistyped config would grow a new tree."""
    if not config.node.state_dir.is_dir():
        fail(f"node.state_dir {config.node.state_dir} does not exist; check the config (--config) points at this "
             f"node's")
    pid = daemon_holding(config.serial.port)
    if pid is not None:
        fail(f"the running shelf-node daemon (pid {pid}) holds the calibration in memory and would overwrite this "
             f"change; stop it first (`sudo systemctl stop shelf-node`), or use the MQTT command on it")


@calibration.command()
@config_option
@json_option
def show(config_path: Path, as_json: bool) -> None:
    """Per plate: its channels' offsets and scales, when and how well it was fitted; the board."""
    config = load_or_fail(config_path)
    store = _store(config)
    cal = _load(config, store)
    plates = {}
    for plate in config.plates:
        fit = cal.plate_fits.get(plate.name, {})
        plates[plate.name] = {
            "channels": {str(ch): {"offset": cal.channels[ch].offset,
                                   "counts_per_gram": cal.channels[ch].counts_per_gram} for ch in plate.channels},
            "calibrated": bool(fit),
            **{key: fit.get(key) for key in ("calibrated_at", "points", "residual_g", "scale_correction")},
        }
    data = {"file": str(store.path), "source": cal.source, "previous": str(store.prev_path)
            if store.prev_path.exists() else None, "board": None if cal.board is None else cal.board.to_json(),
            "plates": plates}
    emit(data, as_json, _render)


def _render(data: dict[str, Any]) -> str:
    rows = [[name, ch, values["offset"], values["counts_per_gram"], "yes" if plate["calibrated"] else "no",
             plate["residual_g"]]
            for name, plate in data["plates"].items() for ch, values in plate["channels"].items()]
    board = data["board"]
    head = [f"{data['file']}: {data['source']}",
            f"board: {'uid ' + board['uid'] + ', firmware ' + board['firmware'] if board else 'not recorded yet'}",
            f"previous (for undo): {data['previous'] or 'none'}"]
    return "\n".join(head) + "\n" + table(["plate", "ch", "offset", "counts/g", "calibrated", "residual_g"], rows)


@calibration.command()
@config_option
def undo(config_path: Path) -> None:
    """Bring back the calibration the last tare, calibration or reset replaced (again: redo)."""
    config = load_or_fail(config_path)
    _refuse_while_the_daemon_runs(config)
    store = _store(config)
    run_guarded(lambda: store.undo(config.serial.channels, default_counts_per_gram(config)))
    click.echo(f"restored the previous calibration into {store.path} (the undone one is now {store.prev_path.name}; "
               f"`calibration undo` again redoes)")


@calibration.command()
@config_option
@click.option("--all", "every_plate", is_flag=True, help="Every plate, also when the file is corrupt.")
@click.argument("plate", required=False)
def reset(config_path: Path, every_plate: bool, plate: str | None) -> None:
    """PLATE's channels back to the defaults (offset 0, [weighing] counts_per_gram) and its fit forgotten."""
    config = load_or_fail(config_path)
    if (plate is None) == (not every_plate):
        fail("give one PLATE, or --all for every plate")
    names = config.plate_names()
    if plate is not None and plate not in names:
        fail(f"unknown plate {plate!r}; the configured plates are {', '.join(names)}")
    _refuse_while_the_daemon_runs(config)
    store = _store(config)
    default = default_counts_per_gram(config)
    if every_plate:
        cal = Calibration.defaults(config.serial.channels, default)
    else:
        cal = _load(config, store)
        for section in config.plates:
            if section.name == plate:
                cal = cal.reset_plate(section.name, list(section.channels), default)
    run_guarded(lambda: store.save(cal))
    click.echo(f"{'every plate' if every_plate else f'plate {plate}'} reset to the defaults in {store.path}; "
               f"tare and calibrate next (`calibration undo` brings the old values back)")


@calibration.command("confirm-board")
@config_option
def confirm_board(config_path: Path) -> None:
    """Keep the calibration for a new MCU board: forget the recorded board, the daemon records the next one."""
    config = load_or_fail(config_path)
    _refuse_while_the_daemon_runs(config)
    store = _store(config)
    cal = _load(config, store)
    old = cal.board
    if old is None:
        click.echo(f"{store.path} records no board; the daemon takes the first one it sees")
        return
    run_guarded(lambda: store.save(Calibration(cal.channels, cal.plate_fits, cal.source, None)))
    click.echo(f"forgot board uid {old.uid} (firmware {old.firmware}); the daemon records the board it sees next "
               f"as the calibration's")
