"""Annotated images: a colour per label, captions on a filled background, captions that never overlap;
image files read with errors that name what is wrong."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from edge.errors import CameraError
from edge.hw.draw import HAND_COLOUR, PALETTE, REGION_COLOUR, annotate, label_colours, place_caption, read_image
from edge.model import Detection, PlateRegion


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_each_label_has_its_own_colour_the_same_in_every_image() -> None:
    labels = ["banana", "apple", "banana", "orange", "bottle", "cup"]
    colours = label_colours(labels, "person")
    assert colours["person"] == HAND_COLOUR
    distinct = [colours[label] for label in dict.fromkeys(labels)]
    assert len(set(distinct)) == len(distinct) and all(c in PALETTE for c in distinct)
    assert label_colours(["banana"], "person")["banana"] == colours["banana"]  # stable from the name
    assert REGION_COLOUR not in PALETTE and HAND_COLOUR not in PALETTE


def test_captions_of_stacked_boxes_never_overlap_and_stay_in_the_frame() -> None:
    placed: list[tuple[int, int, int, int]] = []
    for _ in range(12):  # twelve detections of one box, as an SSD gives for a crate of bananas
        rect = place_caption((80, 14), (20, 30, 200, 220), (348, 348), placed)
        placed.append(rect)
    assert not any(overlaps(a, b) for a, b in itertools.combinations(placed, 2))
    assert all(min(r) >= 0 and max(r[2], r[3]) <= 348 for r in placed)
    assert placed[0] == (20, 16, 100, 30)  # the first sits right above its box
    at_top = place_caption((80, 14), (5, 2, 50, 50), (348, 348), [])
    assert at_top == (5, 2, 85, 16)  # no room above: just inside the box


def test_annotated_caption_has_a_filled_background_in_the_label_colour() -> None:
    image = np.zeros((400, 400, 3), np.uint8)
    detections = [Detection("banana", 51, 0.9, (100, 150, 300, 350)),
                  Detection("banana", 51, 0.8, (100, 150, 300, 340)),
                  Detection("apple", 52, 0.7, (100, 150, 290, 330))]
    region = PlateRegion("p1", ((10.0, 10.0), (390.0, 10.0), (390.0, 390.0), (10.0, 390.0)))
    out = annotate(image, detections, [region])
    assert (image == 0).all()  # the original is untouched
    colours = label_colours(["banana", "apple"], "person")
    above = out[136:149, 101:140].reshape(-1, 3)  # just above the first box: the 0.90 caption
    share = np.mean(np.all(above == colours["banana"], axis=1))
    assert share > 0.4, f"caption background covers {share:.0%}"  # the rest is its text
    assert tuple(out[137, 101]) == colours["banana"]  # the padding left of the text
    for label in ("banana", "apple"):  # every label's colour is on the canvas
        assert np.any(np.all(out.reshape(-1, 3) == colours[label], axis=1))
    assert np.any(np.all(out.reshape(-1, 3) == REGION_COLOUR, axis=1))


def test_read_image_names_a_png_cut_short(tmp_path: Path) -> None:
    import cv2

    ok, png = cv2.imencode(".png", np.full((60, 80, 3), 128, np.uint8))
    assert ok
    (tmp_path / "whole.png").write_bytes(png.tobytes())
    (tmp_path / "cut.png").write_bytes(png.tobytes()[: png.size // 2])
    assert read_image(tmp_path / "whole.png").shape == (60, 80, 3)
    with pytest.raises(CameraError, match=r"cut\.png: PNG cut short \(\d+ bytes, no IEND chunk\); copy it again"):
        read_image(tmp_path / "cut.png")
