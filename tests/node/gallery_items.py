"""What the gallery feed's tests share: a node config with a camera's plate regions, a planogram of
look-alike apples, the look-back ring a VisionService holds (real FrameRing, real frames and detections),
and item events as fusion makes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import NodeConfig, parse_config
from edge.model import Detection, ItemAlternative, ItemEvent, ItemLine, PlateChange, PlateRegion
from edge.planogram import Planogram, parse_planogram
from edge.vision.ring import FrameRing

T0 = 1_790_000_000.0
CONFIG = """
[node]
store_id = "s1"
node_id = "n1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 2
[[plates]]
name = "p1"
channels = [0]
[[plates]]
name = "p2"
channels = [1]
{extra}
"""
PLANOGRAM: dict[str, Any] = {"format": 2, "id": "pg", "version": 1,
             "catalogue": [{"sku": "APPLE-GS", "name": "Granny Smith", "unit_weight_g": 182.0, "unit_sigma_g": 3.0,
                            "labels": ["apple"]},
                           {"sku": "APPLE-PL", "name": "Pink Lady", "unit_weight_g": 185.0, "unit_sigma_g": 3.0,
                            "labels": ["apple"]},
                           {"sku": "JUICE-A", "name": "Juice", "unit_weight_g": 1040.0, "unit_sigma_g": 5.0,
                            "labels": []}],
             "plates": {"p1": [{"sku": "APPLE-GS"}, {"sku": "APPLE-PL"}], "p2": [{"sku": "JUICE-A"}]}}


def node_config(tmp_path: Path, extra: str = "") -> NodeConfig:
    (tmp_path / "state").mkdir(exist_ok=True)
    return parse_config(CONFIG.format(state=tmp_path / "state", extra=extra))


def planogram() -> Planogram:
    return parse_planogram(json.dumps(PLANOGRAM), ["p1", "p2"])


class RingCamera:
    """What the gallery feed reads of a VisionService: its look-back ring, plate regions, hand label and
    overlap; frames are pushed as the grabber does and analysed as the detector does (detections set)."""

    def __init__(self) -> None:
        self.ring = FrameRing(60.0)
        self.regions = [PlateRegion("p1", ((0, 0), (320, 0), (320, 480), (0, 480))),
                        PlateRegion("p2", ((320, 0), (640, 0), (640, 480), (320, 480)))]
        self.hand_label = "person"
        self.min_overlap = 0.3

    def frames_between(self, t0: float, t1: float) -> list[Any]:
        return self.ring.frames_between(t0, t1)

    def show(self, t: float, *detections: Detection) -> None:
        image = np.zeros((480, 640, 3), np.uint8)
        image[:, :320] = (40, 200, 60)
        image[:, 320:] = (200, 60, 40)
        self.ring.push(t, image).detections = detections


def apple_box(score: float = 0.8) -> Detection:
    return Detection("apple", 52, score, (60, 100, 160, 200))


def item(sku: str = "APPLE-GS", confidence: float = 0.9995, flagged: bool = False, action: str = "pick",
         camera: str = "ok", t: float = T0, plate: str = "p1", alternatives: tuple[str, ...] = ()) -> ItemEvent:
    return ItemEvent(
        t_start=t, t_end=t + 1.0, action=action, lines=(ItemLine(sku, 1, plate),),  # type: ignore[arg-type]
        confidence=confidence, misplaced=False, review_required=flagged, review_reasons=("twin",) if flagged else (),
        alternatives=tuple(ItemAlternative(action, (ItemLine(a, 1, plate),), 0.01)  # type: ignore[arg-type]
                           for a in alternatives),
        weight_events=(), changes=(PlateChange(plate, -182.0, 0.5),), residual_g=0.0,
        vision={"camera": camera, "used": True, "labels": {"apple": 0.8}, "hand_present": True, "frames": 5})
