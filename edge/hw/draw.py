"""Annotated images for technicians and snapshots: boxes, labels, scores, plate regions; JPEG I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError
from edge.model import Detection, PlateRegion

Image = npt.NDArray[np.uint8]
BOX_COLOUR = (0, 200, 255)
HAND_COLOUR = (255, 80, 80)
REGION_COLOUR = (60, 220, 60)


def annotate(
    image: Image, detections: Iterable[Detection], regions: Sequence[PlateRegion] = (), hand_label: str = "person"
) -> Image:
    """A copy of `image` with plate regions (green) and detections (label + score) drawn."""
    import cv2

    canvas = image.copy()
    for region in regions:
        points = np.array(region.polygon, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], isClosed=True, color=REGION_COLOUR, thickness=2)
        x, y = points[0, 0]
        cv2.putText(canvas, region.name, (int(x) + 4, int(y) + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, REGION_COLOUR, 1)
    for detection in detections:
        colour = HAND_COLOUR if detection.label == hand_label else BOX_COLOUR
        x1, y1, x2, y2 = detection.box
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        caption = f"{detection.label} {detection.score:.2f}"
        cv2.putText(canvas, caption, (x1 + 2, max(y1 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1)
    return canvas


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    import cv2

    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraError("JPEG encoding failed")
    return bytes(buffer.tobytes())


def read_image(path: Path) -> Image:
    """BGR image from a file; CameraError naming the file when it is missing or not an image."""
    import cv2

    if not path.is_file():
        raise CameraError(f"{path}: no such image file")
    image: Image | None = cv2.imread(str(path), cv2.IMREAD_COLOR)  # type: ignore[assignment]
    if image is None:
        raise CameraError(f"{path}: not a readable image (JPEG/PNG expected)")
    return image
