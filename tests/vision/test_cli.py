"""`shelf-node detect` and `shelf-node camera` through click, with the real model and real files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from click.testing import CliRunner

from edge.cli import cli

from .frames import still, write_frames

PHOTO = "grocery-store/Fruit_Orange_Orange_001.jpg"


def write_config(path: Path, frames: Path, model_dir: Path | None) -> Path:
    detector = (
        f'[detector]\nmodel = "{model_dir / "detect.tflite"}"\nlabels = "{model_dir / "coco_labels.txt"}"\n'
        if model_dir
        else ""
    )
    path.write_text(
        f"""
[node]
store_id = "s1"
node_id = "n1"
state_dir = "{path.parent / "state"}"
[serial]
port = "loop://"
[[plates]]
name = "p1"
channels = [0]
roi = [[10, 10], [150, 10], [150, 110], [10, 110]]
[camera]
source = "{frames}"
{detector}"""
    )
    return path


def test_detect_json_sorted_by_score_and_annotated(
    shared_model_dir: Path, shared_images_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        ["detect", str(shared_images_dir / PHOTO), "--model", str(shared_model_dir / "detect.tflite"),
         "--labels", str(shared_model_dir / "coco_labels.txt"), "--threshold", "0.3", "--json",
         "--annotate", str(tmp_path / "out"), "--config", str(tmp_path / "absent.toml")],
    )
    assert result.exit_code == 2  # explicit --config that does not exist: config error, not silently ignored
    result = CliRunner().invoke(
        cli,
        ["detect", str(shared_images_dir / PHOTO), "--model", str(shared_model_dir / "detect.tflite"),
         "--labels", str(shared_model_dir / "coco_labels.txt"), "--threshold", "0.3", "--json",
         "--annotate", str(tmp_path / "out")],
        env={"SHELF_NODE_CONFIG": str(tmp_path / "none.toml")},
    )
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout[result.stdout.index("[") :])
    scores = [d["score"] for d in entry["detections"]]
    assert entry["detections"][0]["label"] == "orange" and scores == sorted(scores, reverse=True)
    assert min(scores) >= 0.3
    annotated = cv2.imread(entry["annotated"])
    original = cv2.imread(str(shared_images_dir / PHOTO))
    assert annotated.shape == original.shape and (annotated != original).any()


def test_detect_without_model_or_config_says_what_to_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["detect", "x.jpg"], env={"SHELF_NODE_CONFIG": str(tmp_path / "none.toml")})
    assert result.exit_code == 1
    assert "--model FILE --labels FILE" in result.output


def test_detect_reports_unreadable_image_in_one_line(shared_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    frames = tmp_path / "frames"
    frames.mkdir()
    config = write_config(tmp_path / "node.toml", frames, shared_model_dir)
    result = CliRunner().invoke(cli, ["detect", str(tmp_path / "bad.jpg"), "--config", str(config)])
    assert result.exit_code == 1 and "not a readable image" in result.output


def test_camera_snapshot_and_info_from_a_frame_directory(shared_model_dir: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_frames(frames, 3, 0.05, image_for=lambda i: still())
    config = write_config(tmp_path / "node.toml", frames, shared_model_dir)
    out = tmp_path / "snap.jpg"
    result = CliRunner().invoke(cli, ["camera", "snapshot", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    image = cv2.imread(str(out))
    assert image.shape == (120, 160, 3)
    assert image[10, 80, 1] > 150 and image[10, 80, 0] < 150  # the green plate outline was drawn
    result = CliRunner().invoke(cli, ["camera", "info", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout[result.stdout.index("{") :])
    assert (info["width"], info["height"], info["plates_with_roi"]) == (160, 120, "p1")


def test_camera_snapshot_with_missing_source_fails_clearly(tmp_path: Path) -> None:
    config = write_config(tmp_path / "node.toml", tmp_path / "gone", None)
    result = CliRunner().invoke(cli, ["camera", "snapshot", str(tmp_path / "s.jpg"), "--config", str(config)])
    assert result.exit_code == 1 and "fix [camera] source" in result.output
