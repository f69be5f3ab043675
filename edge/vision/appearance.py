"""Appearance descriptors of an item crop, for telling same-label look-alikes apart (pure numpy).

Each descriptor is a float32 vector of unit L2 norm, a deterministic function of its input:

- `colour_descriptor(crop)` (the current one, in `crop-v2`): a hue x saturation histogram of the clearly
  coloured pixels (saturation >= 0.3), normalised over those pixels and raised to the power 0.25, plus a
  value (brightness) histogram of all pixels with the grey and coloured shares, square-rooted, at half
  weight. The power 0.25 (instead of the square root) makes a small but constant patch of colour (the green
  band of one carton, missing on its red twin) count against a large but variable one (the hand, the shelf
  behind); normalising over the coloured pixels makes the colour part independent of how much white or
  grey the crop shows, which the value part carries on its own.
- `colour_descriptor_v1(crop)` (`crop-v1`, kept to compare and to read old caches): an 18 x 4 hue x
  saturation histogram of the pixels with saturation >= 0.15 as a share of all pixels, a value histogram
  and the grey share, square-rooted.
- `pooled_descriptor(feature_map, box)`: the detector's own backbone features (the COCO SSD
  MobileNet v1's `Conv2d_13_pointwise` activations, read through edge.hw.features) averaged under the
  item's box (cells weighted by how much of them the box covers), square-rooted and normalised. The
  detector already ran on the frame, so this costs a pooling, not a second network.

`combine` concatenates weighted parts and renormalises: distance between two combined descriptors is
a weighted mix of the parts' distances. The splitter (edge.vision.appearance_splitter) compares them.
How the parameters were chosen (the teach photos only): docs/vision.md "Appearance".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Descriptor = npt.NDArray[np.float32]
HUE_BINS = 36          # 10 degrees each
SAT_BINS = 2
MIN_SATURATION = 0.30  # below this (greys, white, washed-out skin and glare) a pixel counts for the value part only
MIN_VALUE = 0.12
HUE_POWER = 0.25       # on the coloured pixels' shares: a small constant patch of colour counts
VALUE_BINS = 8
VALUE_WEIGHT = 0.5     # the brightness part counts half as much as the colour part
COLOUR_SIZE = HUE_BINS * SAT_BINS + VALUE_BINS + 2

V1_HUE_BINS, V1_SAT_BINS, V1_MIN_SATURATION = 18, 4, 0.15  # crop-v1's colour_descriptor_v1
V1_COLOUR_SIZE = V1_HUE_BINS * V1_SAT_BINS + VALUE_BINS + 1


def hsv(crop_bgr: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in [0, 1), saturation and value in [0, 1] of a BGR uint8 image (H, W, 3)."""
    if crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3 or crop_bgr.dtype != np.uint8:
        raise ValueError(f"crop must be a BGR uint8 image of shape (H, W, 3), got {crop_bgr.dtype} {crop_bgr.shape}")
    pixels = crop_bgr.reshape(-1, 3).astype(np.float32) / 255.0
    b, g, r = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    value = pixels.max(axis=1)
    chroma = value - pixels.min(axis=1)
    saturation = np.where(value > 0, chroma / np.maximum(value, 1e-6), 0.0)
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(value == r, ((g - b) / safe) % 6.0,
                   np.where(value == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)) / 6.0
    hue = np.where(chroma > 0, hue, 0.0) % 1.0
    return hue, saturation, value


def colour_descriptor(crop_bgr: npt.NDArray[np.uint8]) -> Descriptor:
    """The coloured pixels' hue x saturation shares to the power HUE_POWER (unit norm), and at VALUE_WEIGHT
    the value histogram of all pixels with the grey and coloured shares, square-rooted (unit norm); together
    unit norm. A crop with no pixels is refused (ValueError)."""
    hue, saturation, value = _checked_hsv(crop_bgr)
    coloured = (saturation >= MIN_SATURATION) & (value >= MIN_VALUE)
    counts = _hue_sat_counts(hue[coloured], saturation[coloured], HUE_BINS, SAT_BINS, MIN_SATURATION)
    shares = counts / max(float(counts.sum()), 1.0)
    v_bin = np.minimum((value * VALUE_BINS).astype(np.int64), VALUE_BINS - 1)
    values = np.bincount(v_bin, minlength=VALUE_BINS) / float(value.size)
    share = float(coloured.mean())
    brightness = np.sqrt(np.concatenate([values, [1.0 - share, share]]))
    return combine([_unit(shares ** HUE_POWER), _unit(brightness)], [1.0, VALUE_WEIGHT])


def colour_descriptor_v1(crop_bgr: npt.NDArray[np.uint8]) -> Descriptor:
    """crop-v1's colour part: hue x saturation histogram of the coloured pixels (as shares of all pixels),
    value histogram of all, plus the grey share; square-rooted, the value part at VALUE_WEIGHT, unit norm."""
    hue, saturation, value = _checked_hsv(crop_bgr)
    total = float(hue.size)
    coloured = (saturation >= V1_MIN_SATURATION) & (value >= MIN_VALUE)
    hue_sat = _hue_sat_counts(hue[coloured], saturation[coloured], V1_HUE_BINS, V1_SAT_BINS,
                              V1_MIN_SATURATION) / total
    v_bin = np.minimum((value * VALUE_BINS).astype(np.int64), VALUE_BINS - 1)
    values = np.bincount(v_bin, minlength=VALUE_BINS) / total
    grey_share = np.array([1.0 - coloured.mean()])
    parts = np.concatenate([np.sqrt(hue_sat), VALUE_WEIGHT * np.sqrt(values), np.sqrt(grey_share)])
    return _unit(parts)


def _checked_hsv(crop_bgr: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if crop_bgr.size == 0:
        raise ValueError("empty crop: the item's box has no pixels")
    return hsv(crop_bgr)


def _hue_sat_counts(hue: np.ndarray, saturation: np.ndarray, hue_bins: int, sat_bins: int,
                    min_saturation: float) -> np.ndarray:
    h_bin = np.minimum((hue * hue_bins).astype(np.int64), hue_bins - 1)
    s_scaled = (saturation - min_saturation) / (1.0 - min_saturation)
    s_bin = np.clip((s_scaled * sat_bins).astype(np.int64), 0, sat_bins - 1)
    return np.bincount(h_bin * sat_bins + s_bin, minlength=hue_bins * sat_bins).astype(np.float64)


def pooled_descriptor(feature_map: npt.NDArray[np.floating], box: tuple[float, float, float, float]
                      = (0.0, 0.0, 1.0, 1.0)) -> Descriptor:
    """Mean of `feature_map` (H, W, C; dequantised activations) over the cells under `box` = (x1, y1, x2, y2)
    in normalised image coordinates (0..1), square-rooted (activations are ReLU6, >= 0) and unit norm. A box
    smaller than a cell takes the cell its centre lies in."""
    if feature_map.ndim != 3:
        raise ValueError(f"feature map must be (H, W, C), got shape {feature_map.shape}")
    height, width = feature_map.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(np.isfinite((x1, y1, x2, y2))) or x2 < x1 or y2 < y1:
        raise ValueError(f"box {box} is not (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2")
    c0, c1 = _cells(x1, x2, width)
    r0, r1 = _cells(y1, y2, height)
    pooled = feature_map[r0:r1, c0:c1].reshape(-1, feature_map.shape[2]).mean(axis=0)
    return _unit(np.sqrt(np.maximum(pooled, 0.0)))


def combine(parts: Sequence[Descriptor], weights: Sequence[float]) -> Descriptor:
    """Concatenate unit-norm parts scaled by sqrt(weight) and renormalise: the squared distance between two
    combined descriptors is the weighted mean of the parts' squared distances."""
    if len(parts) != len(weights) or not parts:
        raise ValueError("combine needs one weight per part and at least one part")
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
    return _unit(np.concatenate([np.sqrt(w / total) * p for p, w in zip(parts, weights, strict=True)]))


def _cells(lo: float, hi: float, n: int) -> tuple[int, int]:
    lo_c = min(max(lo, 0.0), 1.0) * n
    hi_c = min(max(hi, 0.0), 1.0) * n
    start, stop = int(np.floor(lo_c)), int(np.ceil(hi_c))
    if stop <= start:  # a box thinner than a cell: the cell its centre lies in
        start = min(int((lo_c + hi_c) / 2), n - 1)
        stop = start + 1
    return min(start, n - 1), min(max(stop, start + 1), n)


def _unit(vector: np.ndarray) -> Descriptor:
    v = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(v))
    if norm == 0.0 or not np.isfinite(norm):
        out = np.zeros(v.shape, np.float32)
        out[-1] = 1.0  # a blank input: one fixed direction, so it is still a unit vector and comparable
        return out
    return (v / norm).astype(np.float32)
