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


def model_args(model_dir: Path) -> list[str]:
    return ["--model", str(model_dir / "detect.tflite"), "--labels", str(model_dir / "coco_labels.txt")]


def test_detect_gives_results_for_good_images_and_one_error_line_per_bad_one(
    shared_model_dir: Path, shared_images_dir: Path, tmp_path: Path
) -> None:
    good = shared_images_dir / PHOTO
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:4000])  # a copy that stopped half-way
    (tmp_path / "text.jpg").write_text("not an image\n")
    (tmp_path / "empty.png").write_bytes(b"")
    images = [str(good), str(tmp_path / "missing.jpg"), str(cut), str(tmp_path / "text.jpg"),
              str(tmp_path / "empty.png"), str(tmp_path)]
    env = {"SHELF_NODE_CONFIG": str(tmp_path / "none.toml")}
    result = CliRunner().invoke(cli, ["detect", *images, *model_args(shared_model_dir), "--json"], env=env)
    assert result.exit_code == 1, result.output
    [entry] = json.loads(result.stdout)
    assert entry["image"] == str(good) and entry["detections"][0]["label"] == "orange"
    errors = [line for line in result.stderr.splitlines() if line.startswith("shelf-node: ")]
    assert errors == [
        f"shelf-node: {tmp_path / 'missing.jpg'}: no such image file",
        f"shelf-node: {cut}: JPEG cut short (4000 bytes, no end marker); copy it again",
        f"shelf-node: {tmp_path / 'text.jpg'}: not a readable image (JPEG/PNG expected)",
        f"shelf-node: {tmp_path / 'empty.png'}: empty file, not an image",
        f"shelf-node: {tmp_path}: is a directory, not an image file",
    ]
    assert "Traceback" not in result.output
    human = CliRunner().invoke(cli, ["detect", str(good), str(tmp_path / "missing.jpg"), *model_args(shared_model_dir)],
                               env=env)
    assert human.exit_code == 1 and "orange" in human.stdout and "no such image file" in human.stderr


def test_detect_annotates_inputs_with_the_same_name_to_separate_files(
    shared_model_dir: Path, shared_images_dir: Path, tmp_path: Path
) -> None:
    import shutil

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(shared_images_dir / PHOTO, tmp_path / folder / "shelf.jpg")
    result = CliRunner().invoke(
        cli, ["detect", str(tmp_path / "a" / "shelf.jpg"), str(tmp_path / "b" / "shelf.jpg"),
              *model_args(shared_model_dir), "--annotate", str(tmp_path / "out"), "--json"],
        env={"SHELF_NODE_CONFIG": str(tmp_path / "none.toml")})
    assert result.exit_code == 0, result.output
    written = [entry["annotated"] for entry in json.loads(result.stdout)]
    assert written == [str(tmp_path / "out" / "shelf.annotated.jpg"), str(tmp_path / "out" / "shelf-2.annotated.jpg")]
    assert all(cv2.imread(path) is not None for path in written)


def test_detect_warns_when_the_label_file_does_not_cover_the_models_classes(
    shared_model_dir: Path, shared_images_dir: Path, tmp_path: Path
) -> None:
    short = tmp_path / "labels.txt"
    short.write_text("\n".join((shared_model_dir / "coco_labels.txt").read_text().splitlines()[:40]) + "\n")
    result = CliRunner().invoke(
        cli, ["detect", str(shared_images_dir / PHOTO), "--model", str(shared_model_dir / "detect.tflite"),
              "--labels", str(short), "--json"], env={"SHELF_NODE_CONFIG": str(tmp_path / "none.toml")})
    assert result.exit_code == 0, result.output
    assert f"shelf-node: warning: label file {short} covers classes 0-39, the model has 90 classes" in result.stderr
    [entry] = json.loads(result.stdout)
    assert entry["detections"][0]["label"] == f"class{entry['detections'][0]['class_id']}"  # orange: by its id


def test_camera_snapshot_json_says_what_was_written(shared_model_dir: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    write_frames(frames, 3, 0.05, image_for=lambda i: still())
    config = write_config(tmp_path / "node.toml", frames, shared_model_dir)
    out = tmp_path / "snap.png"
    result = CliRunner().invoke(cli, ["camera", "snapshot", str(out), "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["out"] == str(out) and (data["width"], data["height"]) == (160, 120)
    assert data["detector"] is True and isinstance(data["detections"], list) and data["frame_time"] > 1e9
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the name chose the format
    bad = CliRunner().invoke(cli, ["camera", "snapshot", str(tmp_path / "snap.txt"), "--config", str(config)])
    assert bad.exit_code == 1 and "name it .jpg or .png" in bad.stderr


def test_camera_on_a_frame_directory_of_unusable_files_names_them(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "1700000000000.jpg").write_bytes(b"\xff\xd8" + bytes(300))
    config = write_config(tmp_path / "node.toml", frames, None)
    text = config.read_text().replace("[camera]\n", "[camera]\ndropout_s = 0.5\n")
    config.write_text(text)
    result = CliRunner().invoke(cli, ["camera", "info", "--config", str(config)])
    assert result.exit_code == 1
    assert "no frame within 0.5s; files ignored: 1700000000000.jpg: not a complete JPEG (302 bytes" in result.stderr
