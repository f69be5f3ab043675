"""Prepare a demo work directory: node config pointing at private ports, factory calibration, and (with
`--camera`) a camera on the simulator's rendered frames."""

from __future__ import annotations

import re
from pathlib import Path

from edge.config import NodeConfig, load_config
from edge.sim.layout import ShelfLayout
from edge.weighing.calibration import Calibration, ChannelCalibration
from edge.weighing.store import CalibrationStore

TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "sim-node.toml"
# the detection model beside the repo, as the tests and benchmarks find it (scripts/get-model fetches it)
DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"


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


def add_camera(config_path: Path, frames: Path | str, model_dir: Path | None = DEFAULT_MODEL) -> NodeConfig:
    """Give the node config a `[camera]` on the frame directory the simulator's rendered camera fills live (or
    on the URL of its MJPEG stream, a str), each
    plate's `roi` in that rendered view (what `shelf-node sim frames --print-roi` prints), and a `[detector]`
    when `model_dir` holds detect.tflite and coco_labels.txt (without one the camera still gives the review
    pictures, but no labels)."""
    from edge.sim.camera.view import ShelfView

    text = config_path.read_text(encoding="utf-8")
    view = ShelfView.grid(load_config(config_path).plate_names())
    for area in view.plates:
        text, count = re.subn(rf'(?m)^(name = "{re.escape(area.name)}"\nchannels = \[.*\])$',
                              rf"\1\nroi = {[list(xy) for xy in area.roi()]}", text)
        if count != 1:
            raise ValueError(f"{config_path}: expected plate {area.name}'s name and channels on two lines")
    text += f'\n[camera]\nsource = "{frames}"\nidle_fps = 2.0\nactive_fps = 10.0\n'
    if model_dir is not None and (model_dir / "detect.tflite").is_file() and (model_dir / "coco_labels.txt").is_file():
        text += f'\n[detector]\nmodel = "{model_dir / "detect.tflite"}"\nlabels = "{model_dir / "coco_labels.txt"}"\n'
    if isinstance(frames, Path):
        frames.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text, encoding="utf-8")
    return load_config(config_path)
