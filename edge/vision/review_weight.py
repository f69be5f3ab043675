"""The review card's weight panel: the change as the weigher saw it (its trace, or a step when weighing
gave none), the stable levels before and after, the change with its sigma, and a zoom on the change
against the grams each top hypothesis predicts (with their unit spread), so a twin shows at a glance."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edge.hw.canvas import Canvas, Colour

Rect = tuple[int, int, int, int]
BORDER: Colour = (214, 210, 206)
MUTED: Colour = (130, 126, 122)
ACCENT: Colour = (196, 122, 28)  # the chosen answer, a recorded trace
OTHER: Colour = (178, 174, 170)  # a drawn (not recorded) trace
PICK: Colour = (70, 70, 200)
PUT: Colour = (70, 160, 60)
HYPOTHESIS_COLOURS: tuple[Colour, ...] = (ACCENT, (60, 150, 240), (150, 90, 170), (110, 160, 90))


def _changes(body: Mapping[str, Any]) -> tuple[float, float]:
    plates = (body.get("evidence") or {}).get("plates") or {}
    delta = sum(float(p.get("delta_g", 0.0)) for p in plates.values())
    sigma = math.sqrt(sum(float(p.get("sigma_g", 0.0)) ** 2 for p in plates.values()))
    return delta, sigma


def weight_title(body: Mapping[str, Any]) -> str:
    evidence = body.get("evidence") or {}
    delta, sigma = _changes(body)
    plates = "+".join(evidence.get("plates") or {}) or "-"
    return (f"Weight  {plates}   change {delta:+.1f} g  (sigma {sigma:.1f} g)   residual "
            f"{float(evidence.get('residual_g', 0.0)):+.1f} g   {evidence.get('quality', '')}")


def _trace(body: Mapping[str, Any]) -> tuple[list[float], float, float, bool]:
    """(grams, level before, level after, recorded?): the event's trace, or a schematic step of the change."""
    trace = (body.get("evidence") or {}).get("trace_g")
    delta, _ = _changes(body)
    if trace and len(trace) >= 4:
        values = [float(v) for v in trace]
        k = max(1, len(values) // 6)
        return values, float(np.median(values[:k])), float(np.median(values[-k:])), True
    ramp = [delta * (0.5 - 0.5 * math.cos(math.pi * i / 9)) for i in range(10)]
    return [0.0] * 12 + ramp + [delta] * 12, 0.0, delta, False


def _predicted(option: Mapping[str, Any], catalogue: Mapping[str, Any]) -> tuple[float, float] | None:
    """(grams the option predicts for the change, its spread from the units' sigma), or None."""
    grams, variance = 0.0, 0.0
    for line in option.get("lines") or []:
        unit = catalogue.get(line.get("sku")) or {}
        if unit.get("unit_weight_g") is None:
            return None
        count = int(line.get("count", 1))
        grams += float(unit["unit_weight_g"]) * count
        variance += float(unit.get("unit_sigma_g") or 0.0) ** 2 * count
    if not option.get("lines"):
        return None
    return (-grams if option.get("action") == "pick" else grams), math.sqrt(variance)


def draw_weight(canvas: Canvas, box: Rect, body: Mapping[str, Any], top: Sequence[Mapping[str, Any]],
                planogram: Mapping[str, Any] | None) -> None:
    """The trace with its two stable levels and the change (left), and a zoom on the change against
    what each top hypothesis predicts (right): a twin shows as two predictions inside the measurement."""
    x1, y1, x2, y2 = box
    values, before, after, recorded = _trace(body)
    _, sigma = _changes(body)
    span = [*values, before, after + sigma, after - sigma]
    low, high = min(span), max(span)
    pad = max((high - low) * 0.12, 1.0)
    low, high = low - pad, high + pad
    px1, px2, py1, py2 = x1 + 58, x1 + 330, y1 + 8, y2 - 26

    def y_of(g: float) -> float:
        return py2 - (g - low) / (high - low) * (py2 - py1)

    step = _nice_step((high - low) / 5)
    tick = math.ceil(low / step) * step
    while tick <= high:
        canvas.line((px1, y_of(tick)), (px2, y_of(tick)), (236, 234, 232))
        canvas.text(x1 + 2, int(y_of(tick)) - 8, f"{tick:g} g", MUTED, 0.4, max_width=56)
        tick += step
    canvas.rect(px1, py1, px2, py2, BORDER)
    colour = PICK if after < before else PUT
    canvas.band(px1, px2, y_of(after - sigma), y_of(after + sigma), colour, 0.22)
    canvas.line((px1, y_of(before)), (px2, y_of(before)), MUTED, 1, dashed=True)
    canvas.line((px1, y_of(after)), (px2, y_of(after)), colour, 1, dashed=True)
    n = len(values)
    canvas.polyline([(px1 + (px2 - px1) * i / max(n - 1, 1), y_of(v)) for i, v in enumerate(values)],
                    ACCENT if recorded else OTHER, 2)
    arrow_x = px1 + (px2 - px1) * 0.7
    canvas.line((arrow_x, y_of(before)), (arrow_x, y_of(after)), colour, 2)
    label_y = int((y_of(before) + y_of(after)) / 2) - 9
    canvas.text(int(arrow_x) + 6, label_y, f"{after - before:+.1f} g", colour, 0.46, True, max_width=px2 - int(arrow_x))
    above = after < before  # level labels on the free side of each dashed line
    canvas.text(px1 + 6, int(y_of(before)) + (5 if above else -21), f"before {before:.1f} g", MUTED, 0.42)
    canvas.text(px1 + 6, int(y_of(after)) + (-21 if above else 5), f"after {after:.1f} g", colour, 0.42)
    note = "trace: grams before / during / after" if recorded else "no trace recorded: the change drawn as a step"
    canvas.text(px1, y2 - 20, note, MUTED, 0.4)
    catalogue = (planogram or {}).get("catalogue") or {}
    _zoom(canvas, (x1 + 364, py1, x2, py2), after - before, sigma, colour,
          [(i, o, p) for i, o in enumerate(top) if (p := _predicted(o, catalogue)) is not None])


def _zoom(canvas: Canvas, box: Rect, delta: float, sigma: float, colour: Colour,
          predicted: list[tuple[int, Mapping[str, Any], tuple[float, float]]]) -> None:
    x1, y1, x2, y2 = box
    zx1, zx2 = x1, x1 + 50
    canvas.text(x1, y1 - 2, "the change vs. predictions", MUTED, 0.4, True)
    y1 += 20
    span = [delta - 2 * sigma, delta + 2 * sigma, *(g - 2 * s for _, _, (g, s) in predicted),
            *(g + 2 * s for _, _, (g, s) in predicted)]
    low, high = min(span), max(span)
    pad = max((high - low) * 0.1, 1.0)
    low, high = low - pad, high + pad

    def y_of(g: float) -> float:
        return y2 - (g - low) / (high - low) * (y2 - y1)

    canvas.rect(zx1, y1, zx2, y2, BORDER)
    for i, _, (grams, spread) in predicted:
        hue = HYPOTHESIS_COLOURS[i % len(HYPOTHESIS_COLOURS)]
        canvas.band(zx1 + 4 + 10 * i, zx1 + 14 + 10 * i, y_of(grams - spread), y_of(grams + spread), hue, 0.45)
    canvas.band(zx1, zx2, y_of(delta - sigma), y_of(delta + sigma), colour, 0.25)
    canvas.line((zx1, y_of(delta)), (zx2, y_of(delta)), colour, 2)
    labels = [(y_of(delta), f"measured {delta:+.1f} +- {sigma:.1f}", colour, True)]
    for i, option, (grams, spread) in predicted:
        hue = HYPOTHESIS_COLOURS[i % len(HYPOTHESIS_COLOURS)]
        canvas.line((zx1 + 4 + 10 * i, y_of(grams)), (zx2, y_of(grams)), hue, 1)
        sku = "+".join(f"{line.get('count')}x{line.get('sku')}" for line in option.get("lines") or [])
        labels.append((y_of(grams), f"{sku} {grams:+.0f} +- {spread:.0f}", hue, False))
    previous = -1e9
    for y, text, hue, bold in sorted(labels, key=lambda label: label[0]):  # spread apart, top to bottom
        at = max(y - 8, previous + 17)
        canvas.line((zx2, y), (zx2 + 10, at + 8), hue, 1)
        canvas.text(zx2 + 14, int(at), text, hue, 0.4, bold, max_width=x2 - zx2 - 16)
        previous = at


def _nice_step(raw: float) -> float:
    power = 10 ** math.floor(math.log10(max(raw, 1e-9)))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
