"""Choosing the live plate windows: motion inside each plate's region between the frames looked at, and hand
boxes over a plate in a recent frame; the most moved handled plates, at most max_plates."""

from __future__ import annotations

import numpy as np

from edge.model import Detection, PlateRegion
from edge.vision.live_windows import HAND_MEMORY_S, HandledPlates, PlateMotion

LEFT = PlateRegion("left", ((0, 0), (320, 0), (320, 480), (0, 480)))
RIGHT = PlateRegion("right", ((320, 0), (640, 0), (640, 480), (320, 480)))
TRIANGLE = PlateRegion("corner", ((0, 0), (320, 0), (0, 240)))  # only the top-left half of its bounding box


def shelf(*blocks: tuple[int, int, int]) -> np.ndarray:
    """A grey 640x480 frame with white squares (x, y, side)."""
    image = np.full((480, 640, 3), 90, np.uint8)
    for x, y, side in blocks:
        image[y : y + side, x : x + side] = 255
    return image


def test_motion_is_measured_inside_each_plate_region() -> None:
    motion = PlateMotion([LEFT, RIGHT, TRIANGLE])
    assert motion.update(shelf()) == {"left": 0.0, "right": 0.0, "corner": 0.0}  # nothing to compare with yet
    moved = motion.update(shelf((400, 200, 100)))  # a hand-sized block appears on the right plate
    assert moved["left"] == 0.0 and moved["corner"] == 0.0
    assert 0.05 < moved["right"] < 0.08  # 100 x 100 of 320 x 480 px
    moved = motion.update(shelf((400, 200, 100), (200, 300, 100)))  # below the triangle's edge: left only
    assert moved["left"] > 0.05 and moved["right"] == 0.0 and moved["corner"] == 0.0
    assert motion.update(shelf((400, 200, 100), (200, 300, 100))) == {"left": 0.0, "right": 0.0, "corner": 0.0}


def test_a_new_frame_size_starts_the_comparison_again() -> None:
    motion = PlateMotion([LEFT, RIGHT])
    motion.update(shelf())
    assert motion.update(np.full((240, 320, 3), 255, np.uint8)) == {"left": 0.0, "right": 0.0}


def test_the_most_moved_handled_plates_are_chosen_at_most_max_plates() -> None:
    one = HandledPlates([LEFT, RIGHT], max_plates=1, hand_label="person")
    two = HandledPlates([LEFT, RIGHT], max_plates=2, hand_label="person")
    for chooser in (one, two):
        assert chooser.choose(0.0, shelf()) == []
        assert chooser.choose(0.1, shelf()) == []  # no motion, no hand: nothing handled
    small_left, big_right = shelf((50, 50, 60)), shelf((50, 50, 60), (400, 100, 150))
    assert [r.name for r in one.choose(0.2, small_left)] == ["left"]
    assert [r.name for r in one.choose(0.3, big_right)] == ["right"]  # only the right moved since
    assert [r.name for r in two.choose(0.2, small_left)] == ["left"]
    both = shelf((200, 300, 100), (400, 300, 150))
    assert [r.name for r in one.choose(0.4, both)] == ["right"]  # both moved, the right more
    assert [r.name for r in two.choose(0.3, both)] == ["right", "left"]


def test_a_hand_over_a_still_plate_marks_it_handled_while_recent() -> None:
    chooser = HandledPlates([LEFT, RIGHT], max_plates=2, hand_label="person")
    chooser.choose(10.0, shelf())
    hand = Detection("person", 0, 0.8, (350, 100, 450, 200))
    chooser.saw_hands(10.0, [hand, Detection("banana", 2, 0.9, (10, 10, 60, 60))])  # a banana is no hand
    assert [r.name for r in chooser.choose(10.1, shelf())] == ["right"]
    assert chooser.choose(10.0 + HAND_MEMORY_S + 0.1, shelf()) == []  # that hand is too old to count
    chooser.saw_hands(12.0, [hand])
    chooser.saw_hands(11.5, [])  # an older frame's result does not replace a newer one's
    assert [r.name for r in chooser.choose(12.05, shelf())] == ["right"]


def test_idle_frames_keep_the_motion_reference_fresh() -> None:
    chooser = HandledPlates([LEFT, RIGHT], max_plates=2, hand_label="person")
    chooser.choose(0.0, shelf())
    chooser.see(shelf((400, 100, 150)))  # the block arrived while idle
    assert chooser.choose(1.0, shelf((400, 100, 150))) == []  # no change since the frame seen last
