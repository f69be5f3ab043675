"""A simulated shelf recorded to a capture file, for the replay tests: config, capture, truth, calibration."""

from __future__ import annotations

import json
from pathlib import Path

from edge.config import parse_config
from edge.loadcell.recording import read_header
from edge.sim.offline import simulate_to_capture
from edge.sim.scenario import Scenario

CONFIG = """
[node]
store_id = "s1"
node_id = "shelf1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 8
""" + "".join(f'[[plates]]\nname = "p{i + 1}"\nchannels = [{2 * i}, {2 * i + 1}]\n' for i in range(4))
PLATES = [f"p{i + 1}" for i in range(4)]


def record_shelf(root: Path, scenario: Scenario, sps: float = 40.0) -> dict[str, Path]:
    """Simulate `scenario` on the 4-plate, 8-channel shelf of CONFIG into `root`, with the simulated shelf's true
    calibration written where `replay --calibration` reads it."""
    config_path = root / "node.toml"
    config_path.write_text(CONFIG.format(state=root / "state"))
    config = parse_config(config_path.read_text())
    capture, truth = root / "shelf.cap", root / "truth.jsonl"
    simulate_to_capture(scenario, capture, truth, sps=sps, config=config)
    header = read_header(capture)
    offsets, scales = header["sim_offsets"].split(","), header["sim_counts_per_gram"].split(",")
    channels = [{"offset": float(o), "counts_per_gram": float(s)} for o, s in zip(offsets, scales, strict=True)]
    calibration = root / "calibration.json"
    calibration.write_text(json.dumps({"format": 1, "channels": channels, "plates": {}}))
    return {"config": config_path, "capture": capture, "truth": truth, "calibration": calibration, "root": root}
