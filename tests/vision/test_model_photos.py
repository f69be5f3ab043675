"""The real COCO SSD model on the real shared photos: the expected class must be the top detection."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from edge.hw.draw import read_image
from edge.vision.detector import Detector


@pytest.fixture(scope="module")
def detector(shared_model_dir: Path) -> Detector:
    return Detector.from_files(shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt")


@pytest.fixture(scope="module")
def labelled_photos(shared_images_dir: Path) -> list[tuple[Path, str]]:
    photos = []
    for manifest in sorted(shared_images_dir.glob("*/manifest.csv")):
        with open(manifest, newline="") as handle:
            for row in csv.DictReader(handle):
                if not row["expected_coco_label"].startswith("(none"):
                    photos.append((manifest.parent / row["file"], row["expected_coco_label"]))
    assert len(photos) >= 30, "the shared image set shrank; expected ~39 labelled photos"
    return photos


def top_label(detector: Detector, image_bgr: object, threshold: float = 0.5) -> str | None:
    detections = detector.detect(image_bgr, threshold)  # type: ignore[arg-type]
    return max(detections, key=lambda d: d.score).label if detections else None


def test_expected_label_is_top_detection_on_every_photo(
    detector: Detector, labelled_photos: list[tuple[Path, str]]
) -> None:
    wrong = []
    for path, expected in labelled_photos:
        got = top_label(detector, read_image(path))
        if got != expected:
            wrong.append(f"{path.name}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_area_resize_option_keeps_every_photo_right(
    shared_model_dir: Path, labelled_photos: list[tuple[Path, str]]
) -> None:
    model, labels = shared_model_dir / "detect.tflite", shared_model_dir / "coco_labels.txt"
    area = Detector.from_files(model, labels, resize="area")
    wrong = [p.name for p, expected in labelled_photos if top_label(area, read_image(p)) != expected]
    assert not wrong


def test_feeding_bgr_measurably_hurts(detector: Detector, labelled_photos: list[tuple[Path, str]]) -> None:
    import cv2

    correct_rgb = correct_bgr = 0
    for path, expected in labelled_photos:
        frame = read_image(path)
        correct_rgb += top_label(detector, frame) == expected
        # The detector swaps BGR->RGB itself; handing it RGB makes the model see BGR.
        correct_bgr += top_label(detector, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)) == expected
    assert correct_rgb == len(labelled_photos)
    assert correct_bgr <= correct_rgb - 5, f"BGR gave {correct_bgr}, RGB {correct_rgb}"


def test_boxes_are_in_frame_pixels(detector: Detector, shared_images_dir: Path) -> None:
    frame = read_image(shared_images_dir / "fridge-objects" / "img_water_bottle_111.jpg")
    height, width = frame.shape[:2]
    detections = detector.detect(frame, 0.5)
    assert detections and detections[0].label == "bottle"
    for d in detections:
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    # The bottle fills a good part of this photo: its box is far bigger than the 300x300 input scale would give
    x1, y1, x2, y2 = detections[0].box
    assert (x2 - x1) * (y2 - y1) > 0.05 * width * height
