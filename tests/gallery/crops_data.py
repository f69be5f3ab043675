"""Crops and item records for the gallery's tests: real JPEGs of small coloured images."""

from __future__ import annotations

import numpy as np

from edge.gallery.records import Crop, ItemRecord
from edge.hw.draw import encode_jpeg


def jpeg(seed: int, side: int = 48) -> bytes:
    """A real JPEG of noise around a colour: `seed` changes colour and noise, so sizes differ a little."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    image = np.clip(base + rng.integers(-40, 41, (side, side, 3)), 0, 255).astype(np.uint8)
    return encode_jpeg(image, 90)


def crop(seed: int, plate: str = "p1", t: float = 1000.0, side: int = 48) -> Crop:
    return Crop(plate, t + seed, "detection", "apple", (10, 10, 10 + side, 10 + side), jpeg(seed, side))


def record(event_id: str, sku: str = "APPLE-GS", plate: str = "p1", flagged: bool = False,
           confidence: float = 0.9995, action: str = "pick", t: float = 1000.0) -> ItemRecord:
    return ItemRecord(event_id, 7, t, t + 1.0, action, ((sku, 1, plate),), (plate,), confidence, flagged,
                      ("twin",) if flagged else ())
