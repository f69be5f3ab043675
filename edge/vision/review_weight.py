"""The review card's weight panel: the change as the weigher saw it (its trace, or a step when weighing
gave none), the stable levels before and after, the change with its sigma, and a zoom on the change
against the grams each top hypothesis predicts (with their unit spread), so a twin shows at a glance."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Trace:
    """What the weight panel plots: per plate (seconds from the change's start, grams), the levels before and
    after, and when the change settled (seconds). Several plates are plotted as each plate's change from its
    own level before, so they share one axis; one plate in its own grams."""

    series: list[tuple[str, list[tuple[float, float]]]]
    before: float
    after: float
    settled_s: float
    recorded: bool
    relative: bool = False


def _trace(body: Mapping[str, Any]) -> Trace:
    """The event's trace (`evidence.trace_g`: plate -> [[s from t_start, g], ...]), or a schematic step."""
    evidence = body.get("evidence") or {}
    delta, _ = _changes(body)
    settled = max(float(body.get("t_end_unix", 0.0)) - float(body.get("t_start_unix", 0.0)), 0.0)
    recorded = evidence.get("trace_g")
    series = [(str(plate), [(float(t), float(g)) for t, g in points])
              for plate, points in (recorded.items() if isinstance(recorded, Mapping) else ())
              if isinstance(points, list) and len(points) >= 4]
    if series:
        levels = [_levels(points, settled) for _, points in series]
        if len(series) == 1:
            before, after = levels[0]
            return Trace(series, before, after, settled, True)
        shifted = [(plate, [(t, g - lv[0]) for t, g in points]) for (plate, points), lv in zip(series, levels,
                                                                                                  strict=True)]
        return Trace(shifted, 0.0, sum(a - b for b, a in levels), settled, True, relative=True)
    span = max(settled, 0.5)
    ramp = [(span * i / 9, delta * (0.5 - 0.5 * math.cos(math.pi * i / 9))) for i in range(10)]
    step = [(-0.4 + 0.4 * i / 12, 0.0) for i in range(12)] + ramp + [(span + 0.4 * i / 11, delta) for i in range(12)]
    return Trace([("", step)], 0.0, delta, span, False)


def _levels(points: Sequence[tuple[float, float]], settled: float) -> tuple[float, float]:
    """The stable levels: the median of the points before the change began and of those after it settled
    (the trace's first and last sixth when it has none there)."""
    k = max(1, len(points) // 6)
    early = [g for t, g in points if t <= 0.0] or [g for _, g in points[:k]]
    late = [g for t, g in points if t >= settled] or [g for _, g in points[-k:]]
    return float(np.median(early)), float(np.median(late))


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
    trace = _trace(body)
    before, after = trace.before, trace.after
    delta, sigma = _changes(body)
    grams = [g for _, points in trace.series for _, g in points]
    times = [t for _, points in trace.series for t, _ in points]
    span = [*grams, before, after + sigma, after - sigma]
    low, high = min(span), max(span)
    pad = max((high - low) * 0.12, 1.0)
    low, high = low - pad, high + pad
    t_low, t_high = min(*times, 0.0), max(*times, trace.settled_s)
    t_high = max(t_high, t_low + 1e-3)
    px1, px2, py1, py2 = x1 + 58, x1 + 330, y1 + 8, y2 - 40

    def y_of(g: float) -> float:
        return py2 - (g - low) / (high - low) * (py2 - py1)

    def x_of(t: float) -> float:
        return px1 + (t - t_low) / (t_high - t_low) * (px2 - px1)

    step = _nice_step((high - low) / 5)
    tick = math.ceil(low / step) * step
    while tick <= high:
        canvas.line((px1, y_of(tick)), (px2, y_of(tick)), (236, 234, 232))
        canvas.text(x1 + 2, int(y_of(tick)) - 8, f"{tick:g} g", MUTED, 0.4, max_width=56)
        tick += step
    canvas.band(int(x_of(0.0)), int(x_of(trace.settled_s)), py1, py2, (226, 222, 218), 0.5)  # the change
    if trace.recorded:
        began_x = int(x_of(0.0)) + 3
        canvas.text(began_x, py2 + 2, "began", MUTED, 0.36)
        settled_text = f"settled +{trace.settled_s:.2f} s"
        room = px2 + 30 - canvas.text_size(settled_text, 0.36)[0]  # the zoom begins 34 px right of the plot
        canvas.text(min(max(int(x_of(trace.settled_s)) + 3, began_x + 40), room), py2 + 2, settled_text, MUTED, 0.36)
    canvas.rect(px1, py1, px2, py2, BORDER)
    colour = PICK if after < before else PUT
    canvas.band(px1, px2, y_of(after - sigma), y_of(after + sigma), colour, 0.22)
    canvas.line((px1, y_of(before)), (px2, y_of(before)), MUTED, 1, dashed=True)
    canvas.line((px1, y_of(after)), (px2, y_of(after)), colour, 1, dashed=True)
    for i, (plate, points) in enumerate(trace.series):
        hue = (ACCENT if i == 0 else HYPOTHESIS_COLOURS[1 + (i - 1) % 3]) if trace.recorded else OTHER
        canvas.polyline([(x_of(t), y_of(g)) for t, g in points], hue, 2)
        if trace.relative:
            canvas.text(int(x_of(points[-1][0])) - 24, int(y_of(points[-1][1])) - 18, plate, hue, 0.4, True)
    arrow_x = px1 + (px2 - px1) * 0.7
    canvas.line((arrow_x, y_of(before)), (arrow_x, y_of(after)), colour, 2)
    label_y = int((y_of(before) + y_of(after)) / 2) - 9
    canvas.text(int(arrow_x) + 6, label_y, f"{delta:+.1f} g", colour, 0.46, True, max_width=px2 - int(arrow_x))
    # each level's label on the free side of its dashed line, and where the trace is not (before: at the
    # right, where the trace has left that level; after: at the left, where it has not reached it yet)
    above = after < before
    before_text = f"before {before:.1f} g"
    canvas.text(px2 - 6 - canvas.text_size(before_text, 0.42)[0], int(y_of(before)) + (5 if above else -21),
                before_text, MUTED, 0.42)
    canvas.text(px1 + 6, int(y_of(after)) + (-21 if above else 5), f"after {after:.1f} g", colour, 0.42)
    if not trace.recorded:
        note = "no trace recorded: the change drawn as a step"
    elif trace.relative:
        note = "trace: each plate's change from its level before"
    else:
        note = "trace: grams before / during / after"
    canvas.text(px1, y2 - 20, note, MUTED, 0.4)
    catalogue = (planogram or {}).get("catalogue") or {}
    _zoom(canvas, (x1 + 364, py1, x2, py2), delta, sigma, colour,
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
