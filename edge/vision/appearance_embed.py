"""The appearance descriptor of an item crop: colour statistics + the detector backbone's pooled features.

`CropEmbedder` runs the detection model (COCO SSD MobileNet v1, uint8) on the crop itself, resized to the
model's input, and pools the last backbone block (`Conv2d_13_pointwise`, 10x10x768) over the whole map:
the crop is the box. Where the detector already ran on the full frame, `embed_under_box(crop, map, box)` gives
the same descriptor from that frame's map pooled under the item's box (no second invoke); it differs from
the crop's own only because the map was computed on the frame, not on the crop. The interpreter keeps its
intermediate tensors (edge.hw.features).

Descriptor kinds (the gallery caches vectors by kind, so a new kind describes the stored crops again):

- `crop-v2` (default): `colour_descriptor` (weight 1) + crop-v1's colour part (weight 0.25) + the backbone
  (weight 1), 931 floats;
- `crop-v1`: `colour_descriptor_v1` + the backbone at equal weight, 849 floats (the descriptor until
  2026-12-02, kept to compare).

Chosen on the teach photos only (leave-one-photo-out between look-alike families; docs/vision.md
"Appearance").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.hw import pixels
from edge.hw.features import BACKBONE_LAST, FeatureTap, find_tap
from edge.vision.appearance import Descriptor, colour_descriptor, colour_descriptor_v1, combine, pooled_descriptor

DESCRIPTOR_KIND = "crop-v2"          # what CropEmbedder gives by default; the gallery's cache kind starts with it
DESCRIPTOR_KINDS = ("crop-v1", "crop-v2")
COLOUR_WEIGHT = 1.0    # chosen on the teach photos only (docs/vision.md "Appearance")
COLOUR_V1_WEIGHT = 0.25  # crop-v2 keeps crop-v1's colour part at this weight (brightness of dark cartons)
BACKBONE_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class Embedding:
    colour: Descriptor                  # the kind's colour part (crop-v1: colour_descriptor_v1)
    backbone: Descriptor | None
    colour_v1: Descriptor | None = None  # crop-v2: crop-v1's colour part
    kind: str = DESCRIPTOR_KIND

    def combined(self) -> Descriptor:
        parts: list[Descriptor] = [self.colour]
        weights = [COLOUR_WEIGHT]
        if self.kind != "crop-v1" and self.colour_v1 is not None:
            parts.append(self.colour_v1)
            weights.append(COLOUR_V1_WEIGHT)
        if self.backbone is not None:
            parts.append(self.backbone)
            weights.append(BACKBONE_WEIGHT)
        return parts[0] if len(parts) == 1 else combine(parts, weights)


def embedding(crop_bgr: npt.NDArray[np.uint8], backbone: Descriptor | None,
              kind: str = DESCRIPTOR_KIND) -> Embedding:
    """The `kind` embedding of a crop whose backbone part is already pooled (None: colour only)."""
    if kind == "crop-v1":
        return Embedding(colour_descriptor_v1(crop_bgr), backbone, None, kind)
    if kind != "crop-v2":
        raise ValueError(f"unknown descriptor kind {kind!r}: use one of {', '.join(DESCRIPTOR_KINDS)}")
    return Embedding(colour_descriptor(crop_bgr), backbone, colour_descriptor_v1(crop_bgr), kind)


def embed_under_box(crop_bgr: npt.NDArray[np.uint8], feature_map: npt.NDArray[np.floating],
                    box: tuple[float, float, float, float], kind: str = DESCRIPTOR_KIND) -> Embedding:
    """The descriptor from a frame the detector already ran on: colour from the item's crop, the backbone
    part pooled from the frame's feature map under `box` (normalised x1, y1, x2, y2). With the crop's own
    map and the whole box it is exactly `CropEmbedder.embed(crop)`."""
    return embedding(crop_bgr, pooled_descriptor(feature_map, box), kind)


class CropEmbedder:
    """Descriptors of BGR uint8 crops; `model=None` gives colour only (no detector needed). `descriptor`:
    the kind (DESCRIPTOR_KINDS), the current one by default."""

    def __init__(self, model: Path | None, threads: int = 1, tensor: str = BACKBONE_LAST,
                 descriptor: str = DESCRIPTOR_KIND) -> None:
        if descriptor not in DESCRIPTOR_KINDS:
            raise ValueError(f"unknown descriptor kind {descriptor!r}: use one of {', '.join(DESCRIPTOR_KINDS)}")
        self.kind = descriptor
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

    def feature_map(self, image_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """The backbone tap's (H, W, C) activations of the model run on `image_bgr` (resized to its input)."""
        if self._tap is None:
            raise ValueError("this CropEmbedder has no model (colour only): no feature map")
        pixels.resize_into(image_bgr, self._resized, "linear")
        pixels.bgr_to_rgb(self._resized, self._rgb[0])
        self._interpreter.set_tensor(self._input, self._rgb)
        self._interpreter.invoke()
        return self._tap.read(self._interpreter)

    def embed(self, crop_bgr: npt.NDArray[np.uint8]) -> Embedding:
        if crop_bgr.size == 0:
            raise ValueError("empty crop: the item's box has no pixels")
        if self._tap is None:
            return embedding(crop_bgr, None, self.kind)
        return embed_under_box(crop_bgr, self.feature_map(crop_bgr), (0.0, 0.0, 1.0, 1.0), self.kind)

    def describe(self, crops: list[npt.NDArray[np.uint8]]) -> Descriptor:
        """One descriptor for an event seen in several frames: the renormalised mean of the crops'."""
        if not crops:
            raise ValueError("describe needs at least one crop")
        mean = np.mean([self.embed(c).combined() for c in crops], axis=0)
        return combine([mean / max(float(np.linalg.norm(mean)), 1e-12)], [1.0])
