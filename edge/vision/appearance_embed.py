"""The appearance descriptor of an item crop: colour statistics + the detector backbone's pooled features.

`CropEmbedder` runs the detection model (COCO SSD MobileNet v1, uint8) on the crop itself, resized to the
model's input, and pools the last backbone block (`Conv2d_13_pointwise`, 10x10x768) over the whole map:
the crop is the box. In the daemon, where the detector already ran on the full frame, the same pooling under
the item's box (`edge.vision.appearance.pooled_descriptor(map, box)`) costs no second invoke; the benchmark
(bench/gallery.py) embeds crops. The interpreter keeps its intermediate tensors (edge.hw.features).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.hw import pixels
from edge.hw.features import BACKBONE_LAST, FeatureTap, find_tap
from edge.vision.appearance import Descriptor, colour_descriptor, combine, pooled_descriptor

COLOUR_WEIGHT = 1.0    # chosen on the teach photos only (bench/gallery.py, docs/vision.md "Appearance")
BACKBONE_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class Embedding:
    colour: Descriptor
    backbone: Descriptor | None

    def combined(self) -> Descriptor:
        if self.backbone is None:
            return self.colour
        return combine([self.colour, self.backbone], [COLOUR_WEIGHT, BACKBONE_WEIGHT])


class CropEmbedder:
    """Descriptors of BGR uint8 crops; `model=None` gives colour only (no detector needed)."""

    def __init__(self, model: Path | None, threads: int = 1, tensor: str = BACKBONE_LAST) -> None:
        self._interpreter: Any = None
        self._tap: FeatureTap | None = None
        if model is not None:
            from edge.hw.runtime import load_interpreter

            self._interpreter = load_interpreter(model, threads=threads, keep_intermediates=True)
            self._tap = find_tap(self._interpreter, tensor)
            detail = self._interpreter.get_input_details()[0]
            self._input = int(detail["index"])
            _, height, width, _ = (int(v) for v in detail["shape"])
            self._resized = np.empty((height, width, 3), np.uint8)
            self._rgb = np.empty((1, height, width, 3), np.uint8)

    def embed(self, crop_bgr: npt.NDArray[np.uint8]) -> Embedding:
        colour = colour_descriptor(crop_bgr)
        if self._tap is None:
            return Embedding(colour, None)
        pixels.resize_into(crop_bgr, self._resized, "linear")
        pixels.bgr_to_rgb(self._resized, self._rgb[0])
        self._interpreter.set_tensor(self._input, self._rgb)
        self._interpreter.invoke()
        return Embedding(colour, pooled_descriptor(self._tap.read(self._interpreter)))

    def describe(self, crops: list[npt.NDArray[np.uint8]]) -> Descriptor:
        """One descriptor for an event seen in several frames: the renormalised mean of the crops'."""
        if not crops:
            raise ValueError("describe needs at least one crop")
        mean = np.mean([self.embed(c).combined() for c in crops], axis=0)
        return combine([mean / max(float(np.linalg.norm(mean)), 1e-12)], [1.0])
