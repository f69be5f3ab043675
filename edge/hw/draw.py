"""Annotated images for technicians and snapshots: boxes, labels, scores, plate regions; JPEG I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError
from edge.hw.jpeg import JPEG_EOI, JPEG_SOI
from edge.model import Detection, PlateRegion

Image = npt.NDArray[np.uint8]
Rect = tuple[int, int, int, int]  # x1, y1, x2, y2
HAND_COLOUR = (255, 80, 80)  # BGR: blue, for the hand_label class
REGION_COLOUR = (60, 220, 60)  # green plate outlines
# Label colours (BGR), distinct from each other and from the hand and region colours.
PALETTE = (
    (0, 200, 255), (255, 0, 255), (0, 128, 255), (255, 255, 0), (0, 0, 230), (180, 105, 255),
    (0, 255, 255), (128, 0, 128), (203, 192, 255), (0, 90, 160), (255, 170, 120), (40, 40, 160),
)
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def annotate(
    image: Image, detections: Iterable[Detection], regions: Sequence[PlateRegion] = (), hand_label: str = "person"
) -> Image:
    """A copy of `image` with plate regions (green, named) and detections: a box and a caption (label and
    score on a filled background) per detection, one colour per label, captions placed so that none
    overlaps another (highest scores placed first, next to their box)."""
    import cv2

    canvas = image.copy()
    height, width = canvas.shape[:2]
    scale = min(max(min(width, height) / 500.0, 0.8), 2.5)  # text and lines grow with the image
    thickness = max(1, round(scale * 1.5))
    placed: list[Rect] = []
    for region in regions:
        points = np.array(region.polygon, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], isClosed=True, color=REGION_COLOUR, thickness=thickness)
        x, y = (int(v) for v in points[:, 0].min(axis=0))
        _caption(canvas, region.name, (x, y, x, y), REGION_COLOUR, scale, placed, inside=True)
    ordered = sorted(detections, key=lambda d: -d.score)
    colours = label_colours([d.label for d in ordered], hand_label)
    for detection in ordered:
        x1, y1, x2, y2 = detection.box
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colours[detection.label], thickness)
    for detection in ordered:
        caption = f"{detection.label} {detection.score:.2f}"
        _caption(canvas, caption, detection.box, colours[detection.label], scale, placed)
    return canvas


def label_colours(labels: Iterable[str], hand_label: str) -> dict[str, tuple[int, int, int]]:
    """A colour per label: the same label gets the same colour in every image (from its name), unless
    that colour is already taken by another label in this image; the hand has its own colour."""
    import zlib

    colours: dict[str, tuple[int, int, int]] = {hand_label: HAND_COLOUR}
    for label in labels:
        if label in colours:
            continue
        start = zlib.crc32(label.encode("utf-8"))
        taken = set(colours.values())
        choices = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        colours[label] = next((c for c in choices if c not in taken), choices[0])
    return colours


def place_caption(size: tuple[int, int], box: Rect, frame: tuple[int, int], placed: Sequence[Rect],
                  inside: bool = False) -> Rect:
    """Where a caption of `size` (w, h) goes for `box`: above its top-left corner (or just inside it
    when `inside`, or when there is no room above), moved down, then up, in caption-height steps to
    the first place that overlaps no `placed` caption and stays in the `frame` (w, h)."""
    w, h = size
    frame_w, frame_h = frame
    x = min(max(box[0], 0), max(frame_w - w, 0))
    y0 = box[1] if inside or box[1] - h < 0 else box[1] - h
    candidates = [y0 + k * h for k in range(0, frame_h // max(h, 1) + 1)]
    candidates += [y0 - k * h for k in range(1, frame_h // max(h, 1) + 1)]
    for y in candidates:
        if y < 0 or y + h > frame_h:
            continue
        rect = (x, y, x + w, y + h)
        if not any(_overlap(rect, other) for other in placed):
            return rect
    y = min(max(y0, 0), max(frame_h - h, 0))  # crowded everywhere: at least stay in the frame
    return (x, y, x + w, y + h)


def _caption(canvas: Image, text: str, box: Rect, colour: tuple[int, int, int], scale: float,
             placed: list[Rect], inside: bool = False) -> None:
    import cv2

    font_scale = 0.42 * scale
    weight = max(1, round(scale))
    (text_w, text_h), baseline = cv2.getTextSize(text, FONT, font_scale, weight)
    pad = max(2, round(3 * scale))
    size = (text_w + 2 * pad, text_h + baseline + 2 * pad)
    rect = place_caption(size, box, (canvas.shape[1], canvas.shape[0]), placed, inside)
    placed.append(rect)
    cv2.rectangle(canvas, rect[:2], (rect[2] - 1, rect[3] - 1), colour, cv2.FILLED)
    ink = (0, 0, 0) if 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2] > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (rect[0] + pad, rect[3] - pad - baseline), FONT, font_scale, ink, weight, cv2.LINE_AA)


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    import cv2

    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraError("JPEG encoding failed")
    return bytes(buffer.tobytes())


def read_image(path: Path) -> Image:
    """BGR image from a file; CameraError naming the file and what is wrong (missing, a directory,
    unreadable, empty, not an image, a JPEG cut short)."""
    import cv2

    if path.is_dir():
        raise CameraError(f"{path}: is a directory, not an image file")
    try:
        data = np.fromfile(path, np.uint8)
    except FileNotFoundError:
        raise CameraError(f"{path}: no such image file") from None
    except OSError as exc:
        raise CameraError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data.size == 0:
        raise CameraError(f"{path}: empty file, not an image")
    if data[:2].tobytes() == JPEG_SOI and data.tobytes().rfind(JPEG_EOI) < 0:
        raise CameraError(f"{path}: JPEG cut short ({data.size} bytes, no end marker); copy it again")
    if data[:8].tobytes() == PNG_SIGNATURE and b"IEND" not in data[-16:].tobytes():
        raise CameraError(f"{path}: PNG cut short ({data.size} bytes, no IEND chunk); copy it again")
    image: Image | None = cv2.imdecode(data, cv2.IMREAD_COLOR)  # type: ignore[assignment]
    if image is None:
        raise CameraError(f"{path}: not a readable image (JPEG/PNG expected)")
    return image


def write_image(path: Path, image: Image, quality: int = 90) -> None:
    """Write a JPEG or PNG (by suffix); CameraError naming the file when it cannot be written."""
    import cv2

    suffix = path.suffix.lower()
    if suffix not in (".jpg", ".jpeg", ".png"):
        raise CameraError(f"{path}: name it .jpg or .png (the format follows the name)")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix != ".png" else []
    ok, buffer = cv2.imencode(suffix, image, params)
    if not ok:
        raise CameraError(f"{path}: cannot encode the image as {suffix}")
    try:
        path.write_bytes(buffer.tobytes())
    except OSError as exc:
        raise CameraError(f"cannot write {path}: {exc.strerror or exc}") from None
