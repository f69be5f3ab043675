"""Drawing a composed picture (the review card) with OpenCV: panels, text, lines, pasted images, PNG.

`Canvas` is a BGR image with the few primitives a layout needs; coordinates are pixels, colours BGR.
Everything that needs cv2 is here, so layout code (edge/vision/review_card.py) stays free of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from edge.errors import CameraError

Image = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]
HIGHLIGHT = (0, 215, 255)  # amber: the plate under review
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
FONT_BOLD = 2  # cv2.FONT_HERSHEY_DUPLEX


class Canvas:
    def __init__(self, width: int, height: int, background: Colour = (255, 255, 255)) -> None:
        self.image: Image = np.empty((height, width, 3), np.uint8)
        self.image[:] = background

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def fill(self, x1: int, y1: int, x2: int, y2: int, colour: Colour) -> None:
        self.image[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = colour

    def rect(self, x1: int, y1: int, x2: int, y2: int, colour: Colour, thickness: int = 1) -> None:
        import cv2

        cv2.rectangle(self.image, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)

    def line(self, p1: tuple[float, float], p2: tuple[float, float], colour: Colour, thickness: int = 1,
             dashed: bool = False) -> None:
        import cv2

        a, b = np.array(p1, float), np.array(p2, float)
        if not dashed:
            cv2.line(self.image, _pt(a), _pt(b), colour, thickness, cv2.LINE_AA)
            return
        length = float(np.hypot(*(b - a)))
        steps = max(int(length // 8), 1)
        for i in range(0, steps, 2):
            cv2.line(self.image, _pt(a + (b - a) * i / steps), _pt(a + (b - a) * min(i + 1, steps) / steps),
                     colour, thickness, cv2.LINE_AA)

    def polyline(self, points: Sequence[tuple[float, float]], colour: Colour, thickness: int = 1) -> None:
        import cv2

        if len(points) >= 2:
            array = np.round(np.array(points, float)).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(self.image, [array], False, colour, thickness, cv2.LINE_AA)

    def band(self, x1: int, x2: int, y_low: float, y_high: float, colour: Colour, alpha: float = 0.25) -> None:
        """A translucent horizontal band (a +-sigma range) between two y values."""
        top, bottom = round(min(y_low, y_high)), round(max(y_low, y_high))
        top, bottom = max(top, 0), min(max(bottom, top + 1), self.height)
        region = self.image[top:bottom, max(x1, 0) : max(x2, 0)]
        region[:] = (region * (1 - alpha) + np.array(colour, float) * alpha).astype(np.uint8)

    def text_size(self, text: str, scale: float = 0.5, bold: bool = False) -> tuple[int, int]:
        import cv2

        (w, h), baseline = cv2.getTextSize(text, FONT_BOLD if bold else FONT, scale, 2 if bold else 1)
        return int(w), int(h + baseline)

    def text(self, x: int, y: int, text: str, colour: Colour = (40, 40, 40), scale: float = 0.5,
             bold: bool = False, max_width: int | None = None) -> int:
        """Text with its top-left corner at (x, y), shortened with '...' to `max_width`; returns its width."""
        import cv2

        if max_width is not None:
            while len(text) > 1 and self.text_size(text, scale, bold)[0] > max_width:
                text = text[:-2] + "…" if text.endswith("…") else text[:-1] + "…"
            text = text.replace("…", "...") if "…" in text else text
        w, h = self.text_size(text, scale, bold)
        cv2.putText(self.image, text, (x, y + h - max(2, h // 4)), FONT_BOLD if bold else FONT, scale, colour,
                    2 if bold else 1, cv2.LINE_AA)
        return w

    def paste(self, image: Image, x1: int, y1: int, x2: int, y2: int) -> tuple[int, int, int, int]:
        """`image` scaled to fit the box (aspect kept, centred); returns where it went."""
        import cv2

        box_w, box_h = x2 - x1, y2 - y1
        height, width = image.shape[:2]
        scale = min(box_w / width, box_h / height)
        new_w, new_h = max(int(width * scale), 1), max(int(height * scale), 1)
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        ox, oy = x1 + (box_w - new_w) // 2, y1 + (box_h - new_h) // 2
        self.image[oy : oy + new_h, ox : ox + new_w] = resized
        return ox, oy, ox + new_w, oy + new_h

    def png(self) -> bytes:
        return encode_png(self.image)


def encode_png(image: Image) -> bytes:
    import cv2

    ok, buffer = cv2.imencode(".png", image)
    if not ok:
        raise CameraError("PNG encoding failed")
    return bytes(buffer.tobytes())


def outline(image: Image, polygon: Sequence[tuple[float, float]], colour: Colour = HIGHLIGHT) -> Image:
    """`image` (in place) with the polygon outlined thickly: the plate a reviewer must look at."""
    import cv2

    thickness = max(3, round(min(image.shape[:2]) / 120))
    points = np.round(np.array(polygon, float)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(image, [points], True, colour, thickness, cv2.LINE_AA)
    return image


def decode_picture(data: bytes, what: str) -> Image:
    """A stored JPEG or PNG as a BGR image; CameraError naming `what` when it is not one."""
    import cv2

    image: Image | None = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # type: ignore[assignment]
    if image is None:
        raise CameraError(f"{what}: not a readable JPEG/PNG ({len(data)} bytes)")
    return image


def _pt(p: npt.NDArray[np.float64]) -> tuple[int, int]:
    return round(p[0]), round(p[1])
