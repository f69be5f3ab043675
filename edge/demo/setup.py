"""Prepare a demo work directory: node config pointing at private ports, factory calibration."""

from __future__ import annotations

import re
from pathlib import Path

from edge.config import NodeConfig, load_config
from edge.sim.layout import ShelfLayout
from edge.weighing.calibration import Calibration, ChannelCalibration
from edge.weighing.store import CalibrationStore

TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "sim-node.toml"


def write_node_config(workdir: Path, broker_port: int, template: Path = TEMPLATE) -> tuple[Path, NodeConfig]:
    """Copy the simulator config template with the serial link, broker port and state dir of this demo."""
    text = template.read_text(encoding="utf-8")
    replacements = {
        r'(?m)^port = "var/demo/shelf-tty".*$': f'port = "{workdir / "shelf-tty"}"',
        r"(?m)^port = 1883.*$": f"port = {broker_port}",
        r'(?m)^state_dir = .*$': f'state_dir = "{workdir / "state"}"',
    }
    for pattern, value in replacements.items():
        text, count = re.subn(pattern, value, text)
        if count != 1:
            raise ValueError(f"{template}: expected exactly one line matching {pattern!r}")
    path = workdir / "node.toml"
    path.write_text(text, encoding="utf-8")
    return path, load_config(path)


def install_factory_calibration(config: NodeConfig, layout: ShelfLayout) -> Path:
    """Store the simulated shelf's true per-channel offsets and scales, as a factory calibration would."""
    channels = tuple(
        ChannelCalibration(float(offset), float(scale))
        for offset, scale in zip(layout.offsets, layout.counts_per_gram, strict=True)
    )
    store = CalibrationStore.in_state_dir(config.node.state_dir)
    config.node.state_dir.mkdir(parents=True, exist_ok=True)
    store.save(Calibration(channels, {}, "simulator factory calibration"))
    return store.path
