"""The review card: one PNG with everything a reviewer needs to settle a flagged item event at a glance.

    card = render_card(record, pictures)     # record: edge/node/review.py's JSON; pictures: kind -> BGR | None
    card.png()                               # bytes; card.panels names where each panel is (tests, docs)

Layout (1280 x 900): a header with the answer, its confidence and the review reasons; on the left the
weight panel (the trace, the stable levels before and after, the change with its sigma, and the level
each top hypothesis predicts) and the planogram slice (the plates' SKUs, unit weights, labels, stock);
on the right the top hypotheses with their probabilities and the frames (the best frame large; the
plate before and after, and the item in the hand). Drawing goes through edge/hw/canvas.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edge.hw.canvas import Canvas, Colour, Image
from edge.vision.review_weight import HYPOTHESIS_COLOURS, draw_weight, weight_title

WIDTH, HEIGHT = 1280, 900
Rect = tuple[int, int, int, int]  # x1, y1, x2, y2
BACKGROUND: Colour = (242, 240, 238)
PANEL: Colour = (255, 255, 255)
BORDER: Colour = (214, 210, 206)
HEADER: Colour = (64, 44, 30)  # dark slate blue
INK: Colour = (48, 44, 40)
MUTED: Colour = (130, 126, 122)
OTHER: Colour = (178, 174, 170)  # alternatives
HARD: Colour = (52, 58, 214)  # review reasons (red)
SOFT: Colour = (0, 150, 245)  # low_confidence (orange)
REASONS = {  # what each review reason asks the reviewer to look at (docs/fusion.md, "Review")
    "no_fit": "the grams are not what any hypothesis explains: count the units on the plate",
    "unknown_item": "no SKU of the catalogue fits: look what the hand took or left",
    "twin": "the top answers weigh the same within the spread and the camera did not tell them apart",
    "vision_disagrees": "the camera saw a label the chosen SKU does not carry",
    "overlap": "another change on the same plate just before: two handlings may be mixed",
    "large_put": "3 or more units put back outside maintenance: a restock, or two changes",
    "faulty_channel": "a load cell of the plate was faulty: the grams may be wrong",
    "serial_outage": "weight frames stopped during the change: the grams may be incomplete",
    "board_changed": "another MCU board answers than the calibration's",
    "over_range": "a load cell was over its range",
    "stopped_early": "the node stopped (or a replay ended) before the change settled: the grams may be partial",
    "camera_unavailable": "the camera was down or absent: the answer rests on weight alone",
    "misplaced": "the answer is a SKU that does not live on this plate",
    "noisy": "the plate was noisy while the change settled",
    "low_confidence": "the confidence is below the auto-accept threshold",
}
FRAME_KINDS = (("before", "plate before"), ("after", "plate after"), ("hand", "item in hand"))


@dataclass(frozen=True, slots=True)
class Card:
    image: Image
    panels: dict[str, Rect]

    def png(self) -> bytes:
        from edge.hw.canvas import encode_png

        return encode_png(self.image)


def options(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answer (with its confidence) and the alternatives (with theirs), most probable first."""
    answer = {"action": body.get("action"), "lines": body.get("lines") or [], "probability": body.get("confidence"),
              "misplaced": body.get("misplaced", False), "chosen": True}
    return [answer, *({**alt, "chosen": False} for alt in body.get("alternatives") or [])]


def option_text(option: Mapping[str, Any]) -> str:
    lines = option.get("lines") or []
    what = ", ".join(f"{line.get('count')} x {line.get('sku')} "
                     f"{'+'.join(line.get('plates') or []) or line.get('plate')}" for line in lines) or "no SKU fits"
    return f"{option.get('action')} {what}{' (misplaced)' if option.get('misplaced') else ''}"


def render_card(record: Mapping[str, Any], pictures: Mapping[str, Image | None]) -> Card:
    body = record.get("body") or {}
    canvas = Canvas(WIDTH, HEIGHT, BACKGROUND)
    panels = {"header": (0, 0, WIDTH, 76)}
    _header(canvas, record, body)
    panels["weight"] = _panel(canvas, (16, 92, 632, 440), weight_title(body))
    draw_weight(canvas, _inner(panels["weight"]), body, options(body)[:4], record.get("planogram"))
    panels["planogram"] = _panel(canvas, (16, 456, 632, 716), _planogram_title(record.get("planogram")))
    _planogram(canvas, _inner(panels["planogram"]), body, record.get("planogram"))
    panels["reasons"] = _panel(canvas, (16, 732, 632, 884), "Why it needs a look")
    _reasons(canvas, _inner(panels["reasons"]), body)
    panels["hypotheses"] = _panel(canvas, (648, 92, 1264, 322), "Hypotheses")
    _hypotheses(canvas, _inner(panels["hypotheses"]), body)
    panels["frames"] = _panel(canvas, (648, 338, 1264, 884), _frames_title(body))
    panels.update(_frames(canvas, _inner(panels["frames"]), body, pictures))
    return Card(canvas.image, panels)


# -- header ------------------------------------------------------------------------------------------------
def _header(canvas: Canvas, record: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    canvas.fill(0, 0, WIDTH, 76, HEADER)
    review = body.get("review") or {}
    verdict = "REVIEW" if review.get("required") else "ACCEPTED"
    x = 20 + canvas.text(20, 12, verdict, (90, 210, 255) if review.get("required") else (150, 230, 150), 0.8, True)
    confidence = body.get("confidence")
    answer = option_text(options(body)[0])
    x += 18 + canvas.text(x + 18, 12, answer, (255, 255, 255), 0.8, True, max_width=760)
    if isinstance(confidence, int | float):
        canvas.text(x + 18, 15, f"confidence {confidence:.3f}", (220, 214, 206), 0.65)
    seq = record.get("seq")
    when = body.get("t_end_iso") or ""
    refs = ", ".join(str(ref.get("seq")) for ref in body.get("weight_events") or []) or "-"
    canvas.text(20, 48, f"event {record.get('event_id') or '(held, no id yet)'}   seq {seq if seq is not None else '-'}"
                f"   {when}   weight event seq {refs}", (200, 194, 186), 0.48, max_width=WIDTH - 300)
    x = WIDTH - 20
    for reason in reversed(review.get("reasons") or []):
        w, h = canvas.text_size(reason, 0.5, True)
        colour = SOFT if reason == "low_confidence" else HARD
        canvas.fill(x - w - 16, 42, x, 42 + h + 10, colour)
        canvas.text(x - w - 8, 46, reason, (255, 255, 255), 0.5, True)
        x -= w + 24


# -- planogram ---------------------------------------------------------------------------------------------
def _planogram_title(planogram: Mapping[str, Any] | None) -> str:
    if not planogram:
        return "Planogram: none applied when the event was judged"
    return f"Planogram {planogram.get('id')} v{planogram.get('version')}: the plates' SKUs"


def _planogram(canvas: Canvas, box: Rect, body: Mapping[str, Any], planogram: Mapping[str, Any] | None) -> None:
    x1, y1, x2, y2 = box
    if not planogram:
        canvas.text(x1 + 8, y1 + 12, "The node had no planogram, so no SKU could be named.", MUTED, 0.5)
        return
    catalogue = planogram.get("catalogue") or {}
    stock = body.get("stock") or {}
    answer = {line.get("sku") for line in body.get("lines") or []}
    others = {line.get("sku") for alt in body.get("alternatives") or [] for line in alt.get("lines") or []}
    rows: list[tuple[str, str]] = [(plate, sku) for plate, skus in (planogram.get("plates") or {}).items()
                                   for sku in skus]
    listed = {sku for _, sku in rows}
    rows += [("elsewhere", sku) for sku in catalogue if sku not in listed]
    columns = ((0, "plate"), (80, "SKU"), (210, "name"), (370, "unit g"), (470, "labels"), (560, "stock"))
    for dx, title in columns:
        canvas.text(x1 + 8 + dx, y1 + 4, title, MUTED, 0.42, True)
    canvas.line((x1 + 4, y1 + 24), (x2 - 4, y1 + 24), BORDER)
    row_h = 26
    fits = max((y2 - y1 - 30) // row_h, 1)
    for i, (plate, sku) in enumerate(rows[:fits]):
        y = y1 + 30 + i * row_h
        if sku in answer:
            canvas.fill(x1 + 2, y - 2, x2 - 2, y + row_h - 4, (214, 236, 252))
        elif sku in others:
            canvas.fill(x1 + 2, y - 2, x2 - 2, y + row_h - 4, (240, 238, 236))
        item = catalogue.get(sku) or {}
        units = (stock.get(plate) or {}).get(sku)
        cells = (plate, sku, str(item.get("name", "")),
                 f"{item.get('unit_weight_g', 0):.0f} +- {item.get('unit_sigma_g', 0):.0f}" if item else "-",
                 ", ".join(item.get("labels") or []) or "-", "-" if units is None else str(units))
        widths = (76, 126, 156, 96, 86, 50)
        for (dx, _), text, width in zip(columns, cells, widths, strict=True):
            canvas.text(x1 + 8 + dx, y + 2, text, INK if sku in answer else MUTED if sku not in others else INK, 0.45,
                        bold=sku in answer and dx == 80, max_width=width)
    if len(rows) > fits:
        canvas.text(x1 + 8, y2 - 18, f"... and {len(rows) - fits} more SKU(s)", MUTED, 0.42)


def _reasons(canvas: Canvas, box: Rect, body: Mapping[str, Any]) -> None:
    x1, y1, x2, y2 = box
    reasons = (body.get("review") or {}).get("reasons") or []
    flags = (body.get("evidence") or {}).get("flags") or []
    if not reasons:
        canvas.text(x1 + 8, y1 + 4, "nothing: the event was accepted on its own", MUTED, 0.45)
    y = y1 + 2
    for reason in reasons:
        w = canvas.text(x1 + 8, y, reason, SOFT if reason == "low_confidence" else HARD, 0.48, True)
        indent = x1 + 16 + max(w, 130)
        for line in _wrap(canvas, REASONS.get(reason, "see docs/fusion.md, Review"), x2 - indent - 8, 0.42):
            if y > y2 - 18:
                return
            canvas.text(indent, y + 1, line, INK, 0.42)
            y += 18
        y += 6
    if flags and y <= y2 - 18:
        canvas.text(x1 + 8, y, f"weight event flags: {', '.join(flags)}", MUTED, 0.42, max_width=x2 - x1 - 16)


def _wrap(canvas: Canvas, text: str, width: int, scale: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and canvas.text_size(f"{lines[-1]} {word}", scale)[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# -- hypotheses --------------------------------------------------------------------------------------------
def _hypotheses(canvas: Canvas, box: Rect, body: Mapping[str, Any]) -> None:
    x1, y1, x2, _ = box
    bar_x1, bar_x2 = x1 + 300, x2 - 70
    for i, option in enumerate(options(body)[:5]):
        y = y1 + 6 + i * 38
        p = float(option.get("probability") or 0.0)
        colour = HYPOTHESIS_COLOURS[i % len(HYPOTHESIS_COLOURS)] if i < 4 else OTHER
        canvas.text(x1 + 8, y + 4, option_text(option), INK if option["chosen"] else MUTED, 0.48, option["chosen"],
                    max_width=285)
        canvas.fill(bar_x1, y + 2, bar_x2, y + 24, (238, 236, 234))
        canvas.fill(bar_x1, y + 2, bar_x1 + round((bar_x2 - bar_x1) * min(max(p, 0.0), 1.0)), y + 24, colour)
        canvas.text(bar_x2 + 8, y + 5, f"{p:.3f}", INK, 0.48, option["chosen"])
    if not body.get("alternatives"):
        canvas.text(x1 + 8, y1 + 50, "no alternative kept", MUTED, 0.45)


# -- frames ------------------------------------------------------------------------------------------------
def _frames_title(body: Mapping[str, Any]) -> str:
    vision = (body.get("evidence") or {}).get("vision") or {}
    labels = ", ".join(f"{k} {float(v):.2f}" for k, v in sorted((vision.get("labels") or {}).items()))
    hand = "hand seen" if vision.get("hand_present") else "no hand seen"
    analysed = f"{vision.get('frames', 0)} frames analysed"  # by the detector: 0 without one, pictures or not
    return f"Camera {vision.get('camera', '-')}   {labels or 'no label'}   {hand}   {analysed}"


def _frames(canvas: Canvas, box: Rect, body: Mapping[str, Any],
            pictures: Mapping[str, Image | None]) -> dict[str, Rect]:
    x1, y1, x2, y2 = box
    placed: dict[str, Rect] = {}
    camera = ((body.get("evidence") or {}).get("vision") or {}).get("camera")
    missing = "no camera on this node" if camera == "absent" else "no frame stored"
    placed["frame_best"] = _picture(canvas, (x1 + 6, y1 + 4, x2 - 6, y1 + 318), pictures.get("best"),
                                    "best frame (plate outlined, detections drawn)", missing)
    width = (x2 - x1 - 24) // 3
    for i, (kind, caption) in enumerate(FRAME_KINDS):
        left = x1 + 6 + i * (width + 6)
        placed[f"frame_{kind}"] = _picture(canvas, (left, y1 + 332, left + width, y2 - 4), pictures.get(kind), caption,
                                           "not seen" if kind == "hand" and camera == "ok" else missing)
    return placed


def _picture(canvas: Canvas, box: Rect, image: Image | None, caption: str, missing: str) -> Rect:
    x1, y1, x2, y2 = box
    canvas.text(x1, y1, caption, MUTED, 0.42, max_width=x2 - x1)
    area = (x1, y1 + 20, x2, y2)
    if image is None:
        canvas.fill(*area, (232, 230, 228))
        w, _ = canvas.text_size(missing, 0.5)
        canvas.text((x1 + x2 - w) // 2, (area[1] + y2) // 2 - 8, missing, MUTED, 0.5)
        return area
    return canvas.paste(image, *area)


# -- panels ------------------------------------------------------------------------------------------------
def _panel(canvas: Canvas, rect: Rect, title: str) -> Rect:
    x1, y1, x2, y2 = rect
    canvas.fill(x1, y1, x2, y2, PANEL)
    canvas.rect(x1, y1, x2 - 1, y2 - 1, BORDER)
    canvas.text(x1 + 12, y1 + 10, title, INK, 0.52, True, max_width=x2 - x1 - 24)
    canvas.line((x1 + 12, y1 + 36), (x2 - 12, y1 + 36), BORDER)
    return rect


def _inner(rect: Rect) -> Rect:
    x1, y1, x2, y2 = rect
    return x1 + 8, y1 + 44, x2 - 8, y2 - 8


def pictures_of(record: Mapping[str, Any], fetch: Any, decode: Any) -> dict[str, Image | None]:
    """The card's pictures for the event's main plate: `fetch(id) -> bytes | None` (the snapshot store),
    `decode(bytes, what) -> Image` (edge.hw.canvas.decode_picture); the event's own snapshot stands in for
    `best` when no review picture was kept."""
    body = record.get("body") or {}
    evidence = body.get("evidence") or {}
    review: Mapping[str, Any] = evidence.get("review_snapshots") or {}
    lines: Sequence[Mapping[str, Any]] = body.get("lines") or []
    plate = next((line.get("plate") for line in lines if line.get("plate") in review), None) or next(iter(review), None)
    ids: dict[str, Any] = dict(review.get(plate) or {}) if plate is not None else {}
    ids.setdefault("best", None)
    if ids["best"] is None:
        ids["best"] = evidence.get("snapshot")
    out: dict[str, Image | None] = {}
    for kind in ("best", "before", "after", "hand"):
        data = fetch(ids[kind]) if ids.get(kind) else None
        out[kind] = decode(data, f"snapshot {ids[kind]}") if data else None
    return out
