"""A node of three plates for the `[gallery] examples_from` tests: p1 holds two same-label look-alikes (GOLDEN
182 g, PINK 185 g, both "apple" to the detector), p2 GOLDEN alone and p3 PINK alone (their other facings), each
plate a third of the camera's 640x480 frame."""

from __future__ import annotations

import json
from pathlib import Path

from edge.config import NodeConfig, parse_config
from edge.model import PlateRegion
from edge.planogram import Planogram, parse_planogram
from tests.node.gallery_items import RingCamera

PLATES = ["p1", "p2", "p3"]
GOLDEN, PINK = "GOLDEN", "PINK"
CONFIG = """
[node]
store_id = "s1"
node_id = "n1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 3
[[plates]]
name = "p1"
channels = [0]
[[plates]]
name = "p2"
channels = [1]
[[plates]]
name = "p3"
channels = [2]
{extra}
"""
BOXES = {"p1": (40, 100, 168, 228), "p2": (256, 100, 384, 228), "p3": (472, 100, 600, 228)}  # inside each third


def config_text(tmp_path: Path, examples_from: str | None = None) -> str:
    (tmp_path / "state").mkdir(exist_ok=True)
    extra = "" if examples_from is None else f'[gallery]\nexamples_from = "{examples_from}"\n'
    return CONFIG.format(state=tmp_path / "state", extra=extra)


def node_config(tmp_path: Path, examples_from: str | None = None) -> NodeConfig:
    return parse_config(config_text(tmp_path, examples_from))


def document(twin_plates: tuple[str, ...] = ("p1",)) -> dict[str, object]:
    """The planogram: GOLDEN and PINK on each of `twin_plates`, GOLDEN alone on p2, PINK alone on p3."""
    catalogue = [{"sku": sku, "name": sku, "unit_weight_g": grams, "unit_sigma_g": 1.5, "labels": ["apple"]}
                 for sku, grams in ((GOLDEN, 182.0), (PINK, 185.0))]
    plates: dict[str, list[dict[str, object]]] = {"p2": [{"sku": GOLDEN, "stock": 40}],
                                                  "p3": [{"sku": PINK, "stock": 40}]}
    for plate in twin_plates:
        plates[plate] = [{"sku": GOLDEN, "stock": 40}, {"sku": PINK, "stock": 40}]
    return {"format": 2, "id": "pg", "version": 1, "catalogue": catalogue, "plates": plates}


def planogram() -> Planogram:
    return parse_planogram(json.dumps(document()), PLATES)


class ThreePlateCamera(RingCamera):
    """The look-back ring with p1, p2 and p3 side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.regions = [PlateRegion(p, ((213 * i, 0), (213 * (i + 1), 0), (213 * (i + 1), 480), (213 * i, 480)))
                        for i, p in enumerate(PLATES)]
