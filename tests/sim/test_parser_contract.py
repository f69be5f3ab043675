"""Contract with the node's serial parser (edge.loadcell.protocol): what the simulator's truth says
happened on the line is exactly what the parser's health counters report."""

from __future__ import annotations

from pathlib import Path

from edge.config.serial import SerialSection
from edge.loadcell.channel_faults import ChannelFaults
from edge.loadcell.protocol import make_parser
from edge.loadcell.recording import read_capture
from edge.loadcell.serial_status import SerialHealth
from edge.model import WeightFrame
from edge.sim.offline import simulate_to_capture
from tests.sim.helpers import quiet_scenario

FAULTS = [
    {"at": 2.0, "kind": "drop_lines", "duration_s": 0.25},  # 20 lines at 80 SPS
    {"at": 3.0, "kind": "corrupt", "mode": "bitflip"},
    {"at": 3.5, "kind": "corrupt", "mode": "truncate"},
    {"at": 4.0, "kind": "dropout", "channel": 6, "duration_s": 0.5},
    {"at": 5.0, "kind": "reboot", "duration_s": 0.4},
    {"at": 7.0, "kind": "lean", "plate": "p2", "grams": 38000.0, "duration_s": 1.0},
]


def test_parser_counts_what_the_truth_says(tmp_path: Path) -> None:
    result = simulate_to_capture(quiet_scenario(10.0, FAULTS), tmp_path / "c.cap", tmp_path / "c.jsonl", sps=80)
    health = SerialHealth(8)
    parser = make_parser(SerialSection(port="/dev/null", channels=8), health)
    frames = [f for t, raw in read_capture(tmp_path / "c.cap") if isinstance(f := parser.parse(raw, t), WeightFrame)]
    assert health.errors == 2  # the two corrupted lines, nothing else
    assert health.mcu_resets == 1 and health.info_frames == 2
    assert health.frames_lost == 20 + 2  # the lost burst, and the two corrupted lines' seq numbers
    faults = ChannelFaults(8, stuck_frames=50, rail=8_388_607)  # what the weigher tracks of the same frames
    for frame in frames:
        faults.observe(frame.t, frame.counts)
    assert faults.silent[6] == 40
    assert faults.saturated[2] > 0 and sum(faults.saturated) == faults.saturated[2]
    calibration = result.layout
    first = frames[0].counts
    grams = [(first[c] - calibration.offsets[c]) / calibration.counts_per_gram[c] for c in range(8)]
    assert all(200.0 < g < 6000.0 for g in grams)  # each cell carries part of a tray and its stock
