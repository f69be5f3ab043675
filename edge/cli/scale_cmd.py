"""`shelf-node tare [PLATE]` and `shelf-node calibrate PLATE`: through the running daemon, which owns the
serial port. Calibration is guided: empty the plate, put a known weight on it, wait for stability, one or
more points, the fit and its residual shown, and saved only when confirmed (`--known-g G --yes` for scripts)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import click

from edge.cli.common import fail
from edge.cli.control_common import ask, socket_option

SETTLE_TIMEOUT_S = 60.0
NOTHING_THERE = 0.05  # a reading under 5 % of the known weight: the weight is not on this plate


@click.command()
@socket_option
@click.argument("plate", required=False)
def tare(socket_path: Path | None, plate: str | None) -> None:
    """Zero PLATE (or every plate); refused while the shelf moves."""
    answer = ask(socket_path, "tare", {"plate": plate} if plate else {})
    for name, grams in sorted(answer["tared"].items()):
        click.echo(f"{name}: zeroed ({grams:+.1f} g removed)")


@click.command()
@socket_option
@click.argument("plate")
@click.option("--known-g", "known", type=click.FloatRange(min=0, min_open=True), multiple=True,
              help="Known weight in grams (repeat for several points); without it you are asked.")
@click.option("--yes", is_flag=True, help="Do not ask: the plate is ready at each step, save the fit.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 600), default=SETTLE_TIMEOUT_S, show_default=True,
              help="Seconds to wait for the plate to settle at each step.")
def calibrate(socket_path: Path | None, plate: str, known: tuple[float, ...], yes: bool, timeout_s: float) -> None:
    """Guided calibration of PLATE with one or more known weights."""
    _step(f"Empty plate {plate} (nothing on it, hands off).", yes)
    settle(socket_path, plate, timeout_s)
    ask(socket_path, "tare", {"plate": plate})
    click.echo(f"{plate}: zeroed")
    points: list[list[float]] = []
    weights = list(known)
    while True:
        grams = weights.pop(0) if weights else (None if known else _ask_grams(plate, first=not points))
        if grams is None:
            break
        _step(f"Put the {grams:g} g weight on {plate}.", yes or bool(known))
        reading = settle(socket_path, plate, timeout_s)
        click.echo(f"{plate}: reads {reading:.2f} g for {grams:g} g")
        if abs(reading) < NOTHING_THERE * grams:
            fail(f"{plate} reads {reading:.2f} g with the {grams:g} g weight on it: is the weight on {plate}? "
                 f"nothing was saved")
        points.append([reading, grams])
        if known and not weights:
            break
    scale, residual = preview_fit(points)
    click.echo(f"fit: readings x {scale:.5f}, residual {residual:.2f} g over {len(points)} point(s)")
    if not yes and not click.confirm(f"Save this calibration for {plate}?", default=False):
        fail("not saved; the plate keeps its previous calibration")
    answer = ask(socket_path, "calibrate", {"plate": plate, "points": points})
    click.echo(f"{plate}: calibration saved ({answer['points']} point(s), residual {answer['residual_g']:.2f} g)")


def _step(prompt: str, skip: bool) -> None:
    if skip:
        click.echo(prompt)
    else:
        click.prompt(f"{prompt} Press Enter when done", default="", show_default=False)


def _ask_grams(plate: str, first: bool) -> float | None:
    question = f"How many grams is the known weight for {plate}?" if first else \
        "Another point? grams of the next weight (Enter to finish)"
    while True:
        text = click.prompt(question, default="" if not first else None, show_default=False)
        if not text and not first:
            return None
        try:
            grams = float(text)
        except ValueError:
            click.echo(f"'{text}' is not a number of grams")
            continue
        if grams > 0 and math.isfinite(grams):
            return grams
        click.echo("the known weight must be more than 0 g")


def settle(socket_path: Path | None, plate: str, timeout_s: float) -> float:
    """Wait until the daemon says PLATE is stable; show progress; its grams then."""
    deadline = time.monotonic() + timeout_s
    shown = False
    while True:
        answer: dict[str, Any] = ask(socket_path, "weights")
        state = (answer.get("plates") or {}).get(plate)
        if state is None:
            fail(f"the daemon has no plate {plate!r}; its plates: {', '.join(sorted(answer.get('plates') or {}))}")
        grams = state.get("grams")
        if state.get("stable") and isinstance(grams, int | float):
            if shown:
                click.echo("")
            return float(grams)
        if time.monotonic() > deadline:
            fail(f"{plate} did not settle within {timeout_s:g} s (last {grams} g); take hands off the shelf, "
                 f"check `shelf-node weights --watch`, and try again")
        click.echo(f"\rwaiting for {plate} to settle: {grams if grams is None else f'{grams:8.1f}'} g  ",
                   nl=False)
        shown = True
        time.sleep(0.25)


def preview_fit(points: list[list[float]]) -> tuple[float, float]:
    """The scale through zero that maps readings to known grams, and its RMS residual in grams (what the
    daemon will fit; shown before asking to save)."""
    denominator = sum(r * r for r, _ in points)
    if denominator <= 0:
        fail("the plate reads 0 g with the weight on it; is the weight on the right plate?")
    scale = sum(r * k for r, k in points) / denominator
    residual = math.sqrt(sum((k - scale * r) ** 2 for r, k in points) / len(points))
    return scale, residual
