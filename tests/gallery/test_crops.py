"""Which box of which frame becomes the crop: the SKU's label first, then the score; a hand over the plate
when nothing was detected there; nothing when the camera saw nothing; small boxes refused, big ones scaled."""

from __future__ import annotations

import numpy as np

from edge.config.gallery import GallerySection
from edge.gallery.crops import crops_for
from edge.hw.jpeg import decode_jpeg
from edge.model import Detection, PlateRegion
from edge.vision.ring import FrameRing

REGIONS = [PlateRegion("p1", ((0, 0), (320, 0), (320, 480), (0, 480))),
           PlateRegion("p2", ((320, 0), (640, 0), (640, 480), (320, 480)))]
SETTINGS = GallerySection(crop_margin=0.0)


def frames(*detections: tuple[Detection, ...] | None, colour: int = 0) -> list:
    ring = FrameRing(10.0)
    out = []
    for i, found in enumerate(detections):
        image = np.full((480, 640, 3), colour, np.uint8)
        image[:, :320] = (0, 0, 200)  # red left half (BGR), green right half
        image[:, 320:] = (0, 200, 0)
        record = ring.push(100.0 + i, image)
        record.detections = found
        out.append(record)
    return out


def det(label: str, score: float, box: tuple[int, int, int, int]) -> Detection:
    return Detection(label, 0, score, box)


def test_the_skus_own_label_wins_over_a_higher_score() -> None:
    seen = frames((det("orange", 0.9, (10, 10, 110, 110)),), (det("apple", 0.6, (20, 20, 100, 140)),))
    (crop,) = crops_for(seen, REGIONS, ["p1"], {"p1": ("apple",)}, "person", 0.3, SETTINGS)
    assert (crop.region, crop.label, crop.box, crop.t) == ("detection", "apple", (20, 20, 100, 140), 101.0)
    image = decode_jpeg(np.frombuffer(crop.jpeg, np.uint8), "crop")
    assert image.shape == (120, 80, 3)
    assert image[..., 2].mean() > 150 and image[..., 1].mean() < 60  # cut from the red half


def test_without_a_label_the_best_score() -> None:
    seen = frames((det("orange", 0.5, (10, 10, 110, 110)), det("bottle", 0.8, (30, 30, 90, 90))))
    (crop,) = crops_for(seen, REGIONS, ["p1"], {}, "person", 0.3, SETTINGS)
    assert crop.label == "bottle"


def test_a_hand_over_the_plate_when_nothing_was_detected_there() -> None:
    seen = frames((det("person", 0.9, (200, 100, 500, 300)),), (det("person", 0.9, (250, 100, 300, 200)),))
    crops = crops_for(seen, REGIONS, ["p1", "p2"], {}, "person", 0.3, SETTINGS)
    assert [(c.plate, c.region, c.box) for c in crops] == [("p1", "hand", (200, 100, 320, 300)),
                                                            ("p2", "hand", (320, 100, 500, 300))]


def test_nothing_seen_no_crop() -> None:
    assert crops_for(frames((), None), REGIONS, ["p1"], {}, "person", 0.3, SETTINGS) == []
    assert crops_for([], REGIONS, ["p1"], {}, "person", 0.3, SETTINGS) == []
    unseen_plate = crops_for(frames((det("apple", 0.9, (10, 10, 110, 110)),)), REGIONS, ["p9"], {}, "person", 0.3,
                             SETTINGS)
    assert unseen_plate == []  # a plate without a region: the camera does not see it


def test_small_boxes_refused_big_ones_scaled_down() -> None:
    tiny = frames((det("apple", 0.9, (10, 10, 20, 20)),))
    assert crops_for(tiny, REGIONS, ["p1"], {}, "person", 0.3, SETTINGS) == []
    big = frames((det("apple", 0.9, (0, 0, 300, 450)),))
    (crop,) = crops_for(big, REGIONS, ["p1"], {}, "person", 0.3, GallerySection(crop_max_side=100, crop_margin=0.0))
    image = decode_jpeg(np.frombuffer(crop.jpeg, np.uint8), "crop")
    assert max(image.shape[:2]) == 100 and crop.box == (0, 0, 300, 450)


def test_margin_grows_the_box_within_the_frame() -> None:
    seen = frames((det("apple", 0.9, (0, 100, 100, 200)),))
    (crop,) = crops_for(seen, REGIONS, ["p1"], {}, "person", 0.3, GallerySection(crop_margin=0.1))
    assert crop.box == (0, 90, 110, 210)
