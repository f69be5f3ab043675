"""`shelf-node selftest`: every check with pass or fail and the fix for each fail. Exit 0 when none fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from edge.cli.common import config_option, emit, json_option, load_or_fail, table
from edge.cli.control_common import connect_or_none, socket_of, socket_option


@click.command()
@config_option
@socket_option
@json_option
@click.option("--serial-seconds", type=click.FloatRange(0.5, 60), default=3.0, show_default=True,
              help="How long to listen for weight frames.")
@click.option("--skip", multiple=True, help="Leave a check out (e.g. --skip camera).")
def selftest(config_path: Path, socket_path: Path | None, as_json: bool, serial_seconds: float,
             skip: tuple[str, ...]) -> None:
    """Config, serial port, frames, calibration, model, camera, broker, disk, clock, GPIO."""
    from edge.cli import selftest_checks as checks

    config = load_or_fail(config_path)
    daemon = connect_or_none(socket_path)
    mode = (f"daemon running (checks through {socket_of(socket_path)})" if daemon is not None
            else "daemon stopped (checks the hardware directly)")
    plan = [("config", lambda: checks.check_config_files(config)),
            ("serial port", lambda: checks.check_serial_port(config, daemon)),
            ("frames", lambda: checks.check_frames(config, daemon, serial_seconds)),
            ("calibration", lambda: checks.check_calibration(config)),
            ("model", lambda: checks.check_model(config)),
            ("camera", lambda: checks.check_camera(config, daemon)),
            ("broker", lambda: checks.check_broker(config)),
            ("disk", lambda: checks.check_disk(config)),
            ("clock", lambda: checks.check_clock()),
            ("gpio", lambda: checks.check_gpio(config, daemon))]
    try:
        results = [checks.guarded(name, run) for name, run in plan if name not in skip]
    finally:
        if daemon is not None:
            daemon.close()
    ok = not any(r.result == "fail" for r in results)
    emit({"ok": ok, "mode": mode, "checks": [r.to_json() for r in results]}, as_json, _render)
    raise SystemExit(0 if ok else 1)


def _render(data: dict[str, Any]) -> str:
    rows = [(c["name"], c["result"].upper() if c["result"] == "fail" else c["result"], c["detail"])
            for c in data["checks"]]
    lines = [f"mode: {data['mode']}", table(["check", "result", "detail"], rows)]
    lines += [f"fix {c['name']}: {c['fix']}" for c in data["checks"] if c["result"] != "pass" and c["fix"]]
    lines.append("selftest: " + ("OK" if data["ok"] else "FAILED"))
    return "\n".join(lines)
