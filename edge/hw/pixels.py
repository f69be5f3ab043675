"""Pixel operations the detector's preprocessing needs, each writing into a buffer the caller owns
(OpenCV, imported lazily). The detector (edge.vision.detector) decides what to do; these do it."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Interpolation = Literal["area", "linear"]


def resize_into(image: Image, out: Image, interpolation: Interpolation = "linear") -> None:
    """Resize `image` to `out`'s width and height, written into `out` (which may be a view into a
    larger image, e.g. the letterbox's inner rectangle)."""
    import cv2

    flag = cv2.INTER_AREA if interpolation == "area" else cv2.INTER_LINEAR
    size = (out.shape[1], out.shape[0])
    if out.flags.c_contiguous:
        cv2.resize(image, size, dst=out, interpolation=flag)
    else:  # OpenCV writes only into contiguous buffers
        out[:] = cv2.resize(image, size, interpolation=flag)


def bgr_to_rgb(image: Image, out: npt.NDArray[Any]) -> None:
    import cv2

    cv2.cvtColor(image, cv2.COLOR_BGR2RGB, dst=out)


def apply_lut(image: Image, table: npt.NDArray[Any], out: npt.NDArray[Any]) -> None:
    """out = table[image], per channel value (256-entry table)."""
    import cv2

    cv2.LUT(image, table, dst=out)

