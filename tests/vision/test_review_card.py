"""The review card of a flagged pick (seeded scene): its size, its panels, and what a few regions show."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.hw.canvas import decode_picture
from edge.vision import review_card, review_weight
from edge.vision.review_card import pictures_of, render_card

from .review_scene import APPLE_COLOUR, kept_pick

PANELS = {"header", "weight", "planogram", "reasons", "hypotheses", "frames",
          "frame_best", "frame_before", "frame_after", "frame_hand"}


def card_of(tmp_path: Path, camera: bool = True) -> review_card.Card:
    record = kept_pick(tmp_path, seed=7, camera=camera)
    fetch = lambda sid: (tmp_path / "snapshots" / f"{sid}.jpg").read_bytes()  # noqa: E731
    return render_card(record, pictures_of(record, fetch, decode_picture))


def _with_seed(state_dir: Path, seed: int) -> tuple[dict, dict]:
    record = kept_pick(state_dir, seed=seed)
    fetch = lambda sid: (state_dir / "snapshots" / f"{sid}.jpg").read_bytes()  # noqa: E731
    return record, pictures_of(record, fetch, decode_picture)


def red_share(image: np.ndarray, rect: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = rect
    region = image[y1:y2, x1:x2].astype(int)
    return float((np.abs(region - np.array(APPLE_COLOUR)).sum(axis=2) < 70).mean())


def test_the_card_has_its_size_panels_and_the_event_drawn_in_them(tmp_path: Path) -> None:
    card = card_of(tmp_path)
    image = card.image
    assert image.shape == (review_card.HEIGHT, review_card.WIDTH, 3) == (900, 1280, 3)
    assert set(card.panels) == PANELS
    top = [card.panels[name] for name in ("header", "weight", "planogram", "reasons", "hypotheses", "frames")]
    for i, a in enumerate(top):  # the panels tile the card without overlapping
        for b in top[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert tuple(image[8, 640]) == review_card.HEADER  # the header band, behind no text there
    reason_chip = image[48:60, 1215:1255].reshape(-1, 3)  # `twin`, right-aligned in the header
    assert (np.abs(reason_chip.astype(int) - review_card.HARD).sum(axis=1) == 0).mean() > 0.3  # under text
    # hypotheses: apple and carrot at 0.447 each: bars filled to 44.7 % of their 230 px, the rest empty
    x1, y1 = card.panels["hypotheses"][:2]
    bar_x1, first_bar_y = x1 + 8 + 300, y1 + 44 + 6 + 13
    assert tuple(image[first_bar_y, bar_x1 + 20]) == review_weight.ACCENT
    assert tuple(image[first_bar_y + 38, bar_x1 + 20]) == review_weight.HYPOTHESIS_COLOURS[1]
    assert tuple(image[first_bar_y, bar_x1 + 200]) == (238, 236, 234)
    assert tuple(image[first_bar_y + 76, bar_x1 + 20]) == (238, 236, 234)  # a misplaced cola at 0.000
    # the weight panel draws the change (a pick: red) and the planogram panel highlights the answer's row
    wx1, wy1, wx2, wy2 = card.panels["weight"]
    weight = image[wy1:wy2, wx1:wx2].reshape(-1, 3).astype(int)
    assert (np.abs(weight - review_weight.PICK).sum(axis=1) < 30).sum() > 300
    px1, py1 = card.panels["planogram"][:2]
    assert tuple(image[py1 + 44 + 30 + 4, px1 + 300]) == (214, 236, 252)  # APPLE-1KG's row
    # the frames: three apples before, two after, one in the hand
    assert red_share(image, card.panels["frame_before"]) > red_share(image, card.panels["frame_after"]) * 1.3
    assert red_share(image, card.panels["frame_hand"]) > 0.4
    assert red_share(image, card.panels["frame_best"]) > 0.02
    png = card.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and decode_picture(png, "card").shape == image.shape


def test_without_a_camera_the_frames_say_so_and_the_rest_is_drawn(tmp_path: Path) -> None:
    card = card_of(tmp_path, camera=False)
    placeholder = (232, 230, 228)
    for name in ("frame_best", "frame_before", "frame_after", "frame_hand"):
        x1, y1, x2, y2 = card.panels[name]
        assert tuple(card.image[y1 + 3, x1 + 3]) == placeholder and tuple(card.image[y2 - 3, x2 - 3]) == placeholder
    assert red_share(card.image, card.panels["frames"]) < 0.01
    x1, y1 = card.panels["hypotheses"][:2]
    assert tuple(card.image[y1 + 44 + 6 + 13, x1 + 8 + 300 + 20]) == review_weight.ACCENT


def test_the_same_seed_gives_the_same_card(tmp_path: Path) -> None:
    first, second = card_of(tmp_path / "a").image, card_of(tmp_path / "b").image
    assert np.array_equal(first, second)
    other = render_card(*_with_seed(tmp_path / "c", 8))  # another seed's frames: only the pictures differ
    x1, y1, x2, y2 = other.panels["frame_best"]
    assert np.array_equal(first[:, :640], other.image[:, :640])
    assert not np.array_equal(first[y1:y2, x1:x2], other.image[y1:y2, x1:x2])


def test_a_recorded_trace_is_drawn_with_its_stable_levels(tmp_path: Path) -> None:
    """When weighing gives the trace (trace_g), the card plots it and reads both levels from its ends."""
    from edge.vision.review_weight import _trace

    record, pictures = _with_seed(tmp_path, 7)
    body = record["body"]
    settled = body["t_end_unix"] - body["t_start_unix"]
    grams = [1500.2] * 10 + [1200.0, 800.0, 500.0] + [469.7] * 10
    times = [-0.5 + 0.05 * i for i in range(10)] + [0.2, 0.4, 0.6] + [settled + 0.04 * i for i in range(10)]
    body["evidence"]["trace_g"] = {"p2": [[t, g] for t, g in zip(times, grams, strict=True)]}
    trace = _trace(body)
    assert trace.recorded and not trace.relative and trace.series == [("p2", list(zip(times, grams, strict=True)))]
    assert trace.before == 1500.2 and trace.after == 469.7 and trace.settled_s == settled
    drawn = render_card(record, pictures)
    plain = render_card({**record, "body": {**record["body"], "evidence": {
        **record["body"]["evidence"], "trace_g": None}}}, pictures)
    x1, y1, _x2, y2 = drawn.panels["weight"]

    def accent(image: np.ndarray) -> int:
        region = image[y1:y2, x1:x1 + 340].reshape(-1, 3).astype(int)
        return int((np.abs(region - review_weight.ACCENT).sum(axis=1) < 40).sum())

    assert accent(drawn.image) > 200 and accent(plain.image) < 20  # a recorded trace in the accent colour


def test_an_item_across_two_plates_draws_each_plates_change_from_its_own_level(tmp_path: Path) -> None:
    from edge.vision.review_weight import _trace

    record, pictures = _with_seed(tmp_path, 7)
    body = record["body"]
    body["evidence"]["trace_g"] = {"p1": [[-0.4 + 0.1 * i, 900.0 if i < 5 else 600.0] for i in range(20)],
                                   "p2": [[-0.4 + 0.1 * i, 2000.0 if i < 6 else 1600.0] for i in range(20)]}
    trace = _trace(body)
    assert trace.relative and trace.before == 0.0 and trace.after == -700.0
    assert [plate for plate, _ in trace.series] == ["p1", "p2"]
    assert trace.series[1][1][0] == (-0.4, 0.0) and trace.series[1][1][-1][1] == -400.0
    card = render_card(record, pictures)
    assert card.image.shape == (900, 1280, 3)


def test_every_review_reason_the_schema_allows_tells_the_reviewer_what_to_check() -> None:
    import json

    schema = json.loads((Path(review_card.__file__).parents[1] / "mqtt" / "schemas" / "event.json").read_text())
    codes = schema["$defs"]["item"]["properties"]["review"]["properties"]["reasons"]["items"]["enum"]
    assert set(codes) == set(review_card.REASONS)  # no code falls back to "see docs/fusion.md"
