"""The demo's node config: with --camera, a [camera] on the live frame directory, each plate's roi in the
simulator's rendered view, and a [detector] only when the model is there."""

from __future__ import annotations

from pathlib import Path

from edge.demo.setup import add_camera, write_node_config
from edge.sim.camera.view import ShelfView


def test_the_camera_config_matches_the_rendered_view_and_names_the_frames(tmp_path: Path) -> None:
    config_path, plain = write_node_config(tmp_path, 1883)
    assert plain.camera is None and all(plate.roi is None for plate in plain.plates)
    config = add_camera(config_path, tmp_path / "frames", model_dir=tmp_path / "no-model")
    assert config.camera is not None and Path(config.camera.source) == tmp_path / "frames"
    assert (tmp_path / "frames").is_dir() and config.detector is None  # no model there: pictures, no labels
    view = ShelfView.from_config(config.plates)  # what the rendered camera draws for this config
    assert view == ShelfView.grid(config.plate_names())
    assert [list(plate.roi or ()) for plate in config.plates] == [area.roi() for area in view.plates]


def test_the_detector_is_configured_when_the_model_is_there(tmp_path: Path) -> None:
    models = tmp_path / "model"
    models.mkdir()
    (models / "detect.tflite").write_bytes(b"a model")
    (models / "coco_labels.txt").write_text("person\n")
    config_path, _ = write_node_config(tmp_path, 1883)
    config = add_camera(config_path, tmp_path / "frames", model_dir=models)
    assert config.detector is not None and config.detector.model == models / "detect.tflite"


def test_the_camera_can_be_the_simulators_mjpeg_stream(tmp_path: Path) -> None:
    config_path, _ = write_node_config(tmp_path, 1883)
    url = "http://127.0.0.1:8081/camera.mjpg"
    config = add_camera(config_path, url, model_dir=tmp_path / "no-model")
    assert config.camera is not None and config.camera.source == url  # a URL, not made into a directory
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("http")]
    assert all(plate.roi is not None for plate in config.plates)
