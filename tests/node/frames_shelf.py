"""A simulated shelf recorded with its rendered camera's frames, for the replay-with-frames tests: plate p2 holds
oranges and large apples of about the same weight (label-distinct weight twins)."""

from __future__ import annotations

import json
from pathlib import Path

from edge.config import parse_config
from edge.loadcell.recording import read_header
from edge.sim.camera import camera_for, write_frames
from edge.sim.camera.view import ShelfView
from edge.sim.offline import simulate_to_capture
from edge.sim.planogram_doc import planogram_document
from edge.sim.scenario import Scenario

PLATES = ["p1", "p2", "p3", "p4"]
ORANGE, APPLE = "orange-net-1kg", "apple-large-1kg"


def twin_plate_scenario(twins: tuple[dict[str, object], dict[str, object]], actions: list[dict[str, object]],
                        seed: int) -> Scenario:
    """Plate p2 holds the two `twins` (Item fields), five of each; p1, p3 and p4 hold pasta."""
    first, second = (str(item["sku"]) for item in twins)
    return Scenario.model_validate({
        "seed": seed,
        "duration_s": 30.0,
        "items": [*twins, {"sku": "pasta-500", "unit_g": 508.0}],
        "planogram": [
            {"plate": "p1", "sku": "pasta-500", "stock": 6},
            {"plate": "p2", "sku": first, "stock": 5},
            {"plate": "p2", "sku": second, "stock": 5},
            {"plate": "p3", "sku": "pasta-500", "stock": 6},
            {"plate": "p4", "sku": "pasta-500", "stock": 6},
        ],
        "actions": actions,
    })  # fmt: skip


def twin_scenario(actions: list[dict[str, object]], seed: int = 1) -> Scenario:
    """An orange and a large apple of about one weight on p2 (label-distinct weight twins)."""
    return twin_plate_scenario(
        ({"sku": ORANGE, "unit_g": 1012.0, "variation": 0.008, "labels": ["orange"], "look": "Orange"},
         {"sku": APPLE, "unit_g": 1016.0, "variation": 0.008, "labels": ["apple"], "look": "Granny-Smith"}),
        actions, seed)  # fmt: skip


def node_config(root: Path, model_dir: Path | None) -> str:
    view = ShelfView.grid(PLATES)
    text = (f'[node]\nstore_id = "s1"\nnode_id = "shelf1"\nstate_dir = "{root / "state"}"\n'
            f'[serial]\nport = "loop://"\nchannels = 8\n[camera]\nsource = "{root / "frames"}"\n')
    if model_dir is not None:
        text += f'[detector]\nmodel = "{model_dir / "detect.tflite"}"\nlabels = "{model_dir / "coco_labels.txt"}"\n'
    for i, plate in enumerate(view.plates):
        text += f'[[plates]]\nname = "{plate.name}"\nchannels = [{2 * i}, {2 * i + 1}]\nroi = {plate.roi()}\n'
    return text.replace("(", "[").replace(")", "]")


def record_with_frames(root: Path, scenario: Scenario, model_dir: Path | None, images: Path | None,
                       sps: float = 20.0) -> dict[str, Path]:
    """Capture, truth, true calibration, planogram and the rendered frames (held-out photos) of `scenario`."""
    config_path = root / "node.toml"
    config_path.write_text(node_config(root, model_dir))
    config = parse_config(config_path.read_text())
    capture, truth_path = root / "shelf.cap", root / "truth.jsonl"
    result = simulate_to_capture(scenario, capture, truth_path, sps=sps, config=config)
    header = read_header(capture)
    offsets, scales = header["sim_offsets"].split(","), header["sim_counts_per_gram"].split(",")
    channels = [{"offset": float(o), "counts_per_gram": float(s)} for o, s in zip(offsets, scales, strict=True)]
    calibration = root / "calibration.json"
    calibration.write_text(json.dumps({"format": 1, "channels": channels, "plates": {}}))
    planogram = root / "planogram.json"
    planogram.write_text(json.dumps(planogram_document(scenario)))
    camera = camera_for(scenario, result.truth, config.plates, images=images, split="held_out")
    start = float(header["start_time"])
    write_frames(camera, root / "frames", start, start + result.duration_s)
    return {"config": config_path, "capture": capture, "truth": truth_path, "calibration": calibration,
            "planogram": planogram, "frames": root / "frames", "root": root}
