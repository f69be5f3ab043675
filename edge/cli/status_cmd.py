"""`shelf-node status` and `shelf-node weights [--watch]`: the running daemon at a glance, over its control
socket (docs/control-socket.md)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from edge.cli.common import emit, json_option, table
from edge.cli.control_common import ask, socket_option
from edge.cli.events_cmd import HEADERS as EVENT_HEADERS
from edge.cli.events_cmd import row as event_row

RATE_SAMPLE_S = 1.0  # with a camera, status reads the daemon twice this far apart for the camera's rates


@click.command()
@socket_option
@json_option
def status(socket_path: Path | None, as_json: bool) -> None:
    """Everything at a glance: plates, last events, serial, camera, MQTT, outbox, planogram, host, LED.
    Exit 0 only when the node is healthy (1 when not, 3 when the daemon is not running)."""
    report = ask(socket_path, "status")
    rates = None
    if not as_json and _get(report, "parts", "vision"):  # the camera's counters twice, for its rates now
        time.sleep(RATE_SAMPLE_S)
        earlier, report = report, ask(socket_path, "status")
        rates = vision_rates(earlier, report)
    emit(report, as_json, lambda r: render_status(r, rates))
    raise SystemExit(0 if report.get("healthy") else 1)


def vision_rates(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, float] | None:
    """Per second between two status reports: camera frames, detector runs, detector errors."""
    elapsed = (later.get("uptime_s") or 0) - (earlier.get("uptime_s") or 0)
    before, after = _get(earlier, "parts", "vision") or {}, _get(later, "parts", "vision") or {}
    if elapsed <= 0:
        return None
    return {key: max(0, (after.get(key) or 0) - (before.get(key) or 0)) / elapsed
            for key in ("frames", "detected", "detector_errors")}


@click.command()
@socket_option
@json_option
@click.option("--watch", is_flag=True, help="Refresh in place until Ctrl-C.")
@click.option("--interval", "interval_s", type=click.FloatRange(0.1, 60), default=0.5, show_default=True)
@click.option("--count", type=click.IntRange(1), default=None, help="With --watch: stop after this many refreshes.")
def weights(socket_path: Path | None, as_json: bool, watch: bool, interval_s: float, count: int | None) -> None:
    """Per-plate grams and stability from the running daemon."""
    shown = 0
    in_place = watch and sys.stdout.isatty() and not as_json
    try:
        while True:
            answer = ask(socket_path, "weights")
            if in_place:
                click.echo("\x1b[H\x1b[J", nl=False)  # cursor home, clear: refreshed in place
            emit(answer, as_json, render_weights)
            shown += 1
            if not watch or (count is not None and shown >= count):
                return
            time.sleep(interval_s)
    except KeyboardInterrupt:
        return


def render_weights(answer: dict[str, Any]) -> str:
    rows = [(name, plate.get("grams"), "yes" if plate.get("stable") else "MOVING", plate.get("noise_sigma_g"),
             ",".join(map(str, plate.get("faulty_channels") or [])) or "-", "OVER" if plate.get("over_range") else "-")
            for name, plate in sorted((answer.get("plates") or {}).items())]
    shelf = "stable" if answer.get("shelf_stable") else "moving"
    return table(["plate", "grams", "stable", "noise_g", "faulty_channels", "range"], rows) + f"\nshelf: {shelf}"


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _age(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _look(plate: dict[str, Any]) -> str:
    examples = ", ".join(f"{sku} {n}" for sku, n in (plate.get("examples") or {}).items())
    verdict = "trusted" if plate.get("trusted") else (
        "not yet" + ("" if plate.get("needed_more") is None else f", ~{plate['needed_more']} more each"))
    return f"{plate.get('plate')} {verdict} ({examples})"


def render_status(report: dict[str, Any], rates: dict[str, float] | None = None) -> str:
    health = report.get("health") or {}
    lines = [f"node {report.get('node')}  version {report.get('software_version')}  up {_age(report.get('uptime_s'))}"
             f"  state: {health.get('state', '?').upper()}"
             + (f" ({'; '.join(health.get('reasons') or [])})" if health.get("reasons") else "")]
    parts = report.get("parts") or {}
    plates = _get(parts, "weighing", "plates") or {}
    lines += ["", table(["plate", "grams", "stable", "noise_g", "faults"], [
        (name, p.get("grams"), "yes" if p.get("stable") else "MOVING", p.get("noise_sigma_g"),
         ",".join(map(str, p.get("faulty_channels") or [])) or "-") for name, p in sorted(plates.items())])]
    events = report.get("recent_events") or []
    if events:
        lines += ["", table(EVENT_HEADERS, [event_row(e) for e in events[-5:]])]  # as `events tail` shows them
    else:
        lines += ["", "events: none since the daemon started"]
    serial = parts.get("serial") or {}
    port = serial.get("port") or {}
    lines += ["", f"serial  {'connected' if port.get('connected') else 'DOWN'}  frames {serial.get('frames_ok')}  "
                  f"checksum errors {serial.get('checksum_errors')}  errors {serial.get('errors')}  "
                  f"seq gaps {serial.get('seq_gaps')}  reopens {port.get('reopens')}"
              + (f"  last error: {port.get('last_error')}" if port.get("last_error") else "")]
    vision = parts.get("vision")
    if vision:
        lines.append(f"camera  {'ok' if vision.get('camera_ok') else 'DOWN: ' + str(vision.get('camera_error'))}  "
                     f"mode {vision.get('mode')}  frames {vision.get('frames')}  detected {vision.get('detected')}  "
                     f"detector errors {vision.get('detector_errors')}"
                     + ("" if rates is None else f"  now {rates['frames']:.1f} frames/s, detector "
                                                 f"{rates['detected']:.1f}/s, {rates['detector_errors']:.1f} errors/s"))
    else:
        lines.append("camera  not configured")
    review = parts.get("review")
    if review:  # flagged item events kept for `shelf-node review show` (docs/vision.md)
        lines.append(f"review  flagged {review.get('flagged')}  kept {review.get('records_stored')} "
                     f"(errors {review.get('record_errors')})  pictures {review.get('pictures_rendered')} "
                     f"(errors {review.get('picture_errors')})  given up {review.get('dropped')}")
    reliability = parts.get("reliability")
    if reliability:  # reviewers' answers and the confidence correction (docs/fusion.md, "Reviewer answers")
        counters = reliability.get("counters") or {}
        lines.append(f"answers {reliability.get('outcomes')} reviewed  lowered bins: "
                     f"{', '.join(reliability.get('lowered_bins') or []) or 'none'}  events lowered "
                     f"{counters.get('lowered', 0)} (to review {counters.get('sent_to_review', 0)})  "
                     f"shelf state set {counters.get('fusion_applied', 0)}")
    looks = _get(parts, "gallery", "appearance")
    if looks:  # the look-alike splitters the gallery taught (docs/gallery.md "Appearance in the daemon")
        lines.append("looks   " + ("  ".join(_look(p) for p in looks.get("plates") or []) or "no look-alike plates"))
    mqtt, outbox = report.get("mqtt") or {}, report.get("outbox") or {}
    lines.append(f"mqtt    {'connected' if mqtt.get('connected') else 'OFFLINE'}  session {mqtt.get('session')}  "
                 f"reconnects {mqtt.get('reconnects')}  in flight {mqtt.get('inflight')}"
                 + (f"  last error: {mqtt.get('last_error')}" if mqtt.get("last_error") else ""))
    lines.append(f"outbox  depth {outbox.get('depth')}  oldest {_age(outbox.get('oldest_age_s'))}  "
                 f"lost {outbox.get('lost', 0)}")
    planogram = report.get("planogram") or {}
    lines.append(f"planogram  {planogram.get('id', '-')} v{planogram.get('version', '-')}" if planogram
                 else "planogram  none yet")
    host = report.get("host") or {}
    rss = host.get("rss_bytes")
    cpu, temperature = host.get("cpu_percent"), host.get("temperature_c")  # None: no sensor, no sample yet
    lines.append(f"host    cpu {'-' if cpu is None else f'{cpu} %'}  memory "
                 f"{'-' if rss is None else f'{rss / 1e6:.0f} MB'}  "
                 f"temperature {'-' if temperature is None else f'{temperature} C'}")
    gpio = report.get("gpio") or {}
    lines.append(f"led     {gpio.get('led', '-')} (pins: {gpio.get('pins', '-')})"
                 + (f"  {gpio.get('problem')}" if gpio.get("problem") else "")
                 + f"  maintenance {'ON' if report.get('maintenance') else 'off'}")
    return "\n".join(lines)

