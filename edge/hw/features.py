"""Read an inner layer's activations from a TFLite interpreter after `invoke` (the backbone features the
appearance model pools under a box, edge.vision.appearance.pooled_descriptor).

The interpreter must keep its intermediate tensors (`load_interpreter(..., keep_intermediates=True)`,
LiteRT's `experimental_preserve_all_tensors`); otherwise their buffers are reused during `invoke` and
`get_tensor` refuses them. The COCO SSD MobileNet v1 in ../shared/models keeps `Conv2d_13_pointwise`
(10x10x768, uint8) and `Conv2d_11_pointwise` (19x19x384) this way; no re-export is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError

BACKBONE_LAST = "Conv2d_13_pointwise/Relu6"  # the last backbone block's pointwise convolution (before SSD heads)


@dataclass(frozen=True, slots=True)
class FeatureTap:
    """One inner tensor of an interpreter, found by the end of its name, with its quantisation."""

    index: int
    name: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int

    def read(self, interpreter: Any) -> npt.NDArray[np.float32]:
        """The activations after the last `invoke`, dequantised, as (H, W, C) float32."""
        try:
            raw = interpreter.get_tensor(self.index)
        except ValueError as exc:
            raise ModelError(
                f"tensor {self.name} cannot be read ({exc}); load the model with keep_intermediates=True"
            ) from None
        values = raw[0] if raw.ndim == 4 else raw
        if self.scale:
            return ((values.astype(np.float32) - self.zero_point) * self.scale).astype(np.float32)
        return values.astype(np.float32)


def find_tap(interpreter: Any, name_suffix: str = BACKBONE_LAST) -> FeatureTap:
    """The 4-D tensor whose name ends with `name_suffix`; ModelError naming what the model has otherwise."""
    details = interpreter.get_tensor_details()
    for detail in details:
        if detail["name"].endswith(name_suffix) and len(detail["shape"]) == 4:
            scale, zero = detail.get("quantization", (0.0, 0))
            return FeatureTap(int(detail["index"]), str(detail["name"]), tuple(int(v) for v in detail["shape"]),
                              float(scale), int(zero))
    feature_maps = [d["name"] for d in details if len(d["shape"]) == 4 and "pointwise" in d["name"]][-3:]
    raise ModelError(f"model has no 4-D tensor named ...{name_suffix}; pointwise layers it has end with: "
                     f"{', '.join(feature_maps) or 'none'}")
