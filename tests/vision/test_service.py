"""VisionService end to end: frame directory of real photos -> real model -> per-plate evidence + snapshots."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge.config import NodeConfig
from edge.vision.service import VisionService
from tests.plugins.waiting import wait_until


def shelf_image(images: Path) -> np.ndarray:
    """Bananas on the left plate, oranges on the right: one 696x348 frame."""
    import cv2

    left = cv2.imread(str(images / "grocery-store" / "Fruit_Banana_Banana_001.jpg"))
    right = cv2.imread(str(images / "grocery-store" / "Fruit_Orange_Orange_001.jpg"))
    right = cv2.resize(right, (left.shape[1], left.shape[0]))
    return np.hstack([left, right])


def make_config(tmp_path: Path, frames: Path, model_dir: Path, **camera: object) -> NodeConfig:
    return NodeConfig.model_validate(
        {
            "node": {"store_id": "s1", "node_id": "n1", "state_dir": str(tmp_path / "state")},
            "serial": {"port": "loop://"},
            "plates": [
                {"name": "left", "channels": [0], "roi": [[0, 0], [348, 0], [348, 348], [0, 348]]},
                {"name": "right", "channels": [1], "roi": [[348, 0], [696, 0], [696, 348], [348, 348]]},
                {"name": "unseen", "channels": [2]},
            ],
            "camera": {"source": str(frames), "idle_fps": 5, "active_fps": 20, "snapshot_max_count": 3, **camera},
            "detector": {"model": str(model_dir / "detect.tflite"), "labels": str(model_dir / "coco_labels.txt")},
        }
    )


@pytest.fixture
def service(tmp_path: Path, shared_model_dir: Path, shared_images_dir: Path) -> VisionService:
    import cv2

    frames = tmp_path / "frames"
    frames.mkdir()
    image = shelf_image(shared_images_dir)
    now = time.time()
    for i in range(40):  # 2 s of frames at 20 fps, starting now
        cv2.imwrite(str(frames / f"{int((now + i * 0.05) * 1000)}.jpg"), image)
    vision = VisionService(make_config(tmp_path, frames, shared_model_dir))
    yield vision
    vision.stop()


def test_evidence_names_what_each_plate_holds(service: VisionService) -> None:
    service.start()
    assert wait_until(lambda: len(service.ring) >= 3)
    t0 = service.ring.frames_between(0, 2e9)[0].t
    # Idle frames are not detected on the fly; evidence() analyses the look-back frames on demand.
    assert service.status().detected == 0
    evidence = service.evidence(t0, time.time() + 5)
    assert set(evidence) == {"left", "right"}
    left, right = evidence["left"], evidence["right"]
    assert max(left.labels, key=lambda k: left.labels[k][0]) == "banana"
    assert max(right.labels, key=lambda k: right.labels[k][0]) == "orange"
    assert left.frames >= 3 and not left.hand_present
    best, mean = left.labels["banana"]
    assert 0.5 <= mean <= best <= 1.0
    assert left.snapshot is not None
    jpeg = service.snapshots.get(left.snapshot, wait_s=5)  # drawn on the writer thread
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"


def test_active_frames_are_detected_by_the_worker(service: VisionService) -> None:
    service.start()
    service.set_active(True)
    assert wait_until(lambda: service.status().detected >= 3, timeout=8)
    status = service.status()
    assert status.camera.camera_ok is True and status.detector_errors == 0 and status.camera.mode == "active"
    jpeg = service.snapshot(annotate=True)
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) > 5000


def test_camera_without_detector_still_buffers_and_reports_frames(
    tmp_path: Path, shared_images_dir: Path
) -> None:
    import cv2

    from .frames import write_frames

    frames = tmp_path / "frames"
    write_frames(frames, 10, 0.05, image_for=lambda i: cv2.resize(shelf_image(shared_images_dir), (696, 348)))
    config = make_config(tmp_path, frames, tmp_path)
    config = config.model_copy(update={"detector": None})
    vision = VisionService(config)
    try:
        vision.start()
        assert wait_until(lambda: len(vision.ring) >= 2)
        evidence = vision.evidence(0, 2e9)
        assert set(evidence) == {"left", "right"}
        assert all(e.frames == 0 and e.labels == {} and e.snapshot is None for e in evidence.values())
        assert vision.status().detector is False and vision.status().camera.camera_ok is True
        assert vision.snapshot()[:2] == b"\xff\xd8"
    finally:
        vision.stop()


def test_evidence_without_on_demand_uses_only_worker_results(service: VisionService) -> None:
    service.start()
    assert wait_until(lambda: len(service.ring) >= 2)
    evidence = service.evidence(0, 2e9, max_on_demand=0)  # idle: the worker analysed nothing yet
    assert all(e.frames == 0 for e in evidence.values())
    assert service.status().detected_on_demand == 0


def test_status_is_typed_and_its_json_is_the_stats_payload(tmp_path: Path) -> None:
    """`status()` is a frozen record read by attribute; `to_json()` is the flat object that
    `stats.parts.vision` has always carried (same keys, same order, JSON-serialisable), plus the new counters."""
    import dataclasses
    import json

    from .frames import write_frames

    frames = tmp_path / "frames"
    write_frames(frames, 5, 0.05)
    config = make_config(tmp_path, frames, tmp_path).model_copy(update={"detector": None})
    vision = VisionService(config)
    try:
        assert vision.status().camera.camera_error == "not started"
        vision.start()
        assert wait_until(lambda: vision.status().camera.frames >= 1)
        status = vision.status()
    finally:
        vision.stop()
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.detected = 5  # type: ignore[misc]
    data = status.to_json()
    assert list(data) == [
        "camera_ok", "camera_error", "source", "frames", "motion_events", "dropouts", "reconnects",
        "unexpected_errors", "bad_frames", "mode", "last_frame_t",
        "detected", "detected_on_demand", "skipped", "detector_errors", "detector", "buffered_frames",
        "snapshot_errors",  # new (issue 11: a snapshot the disk refused is counted, not a lost event)
        "windows", "detect_ms", "window_ms",  # new (issue 13: plate windows on live frames, and their cost)
    ]
    assert data["camera_ok"] is True and data["detector"] is False and data["source"] == f"frame directory {frames}"
    assert data["frames"] == status.camera.frames >= 1 and data["buffered_frames"] == status.buffered_frames
    assert json.loads(json.dumps(data)) == data


def test_a_snapshot_the_disk_refuses_leaves_the_evidence_without_a_picture(tmp_path: Path) -> None:
    """The snapshot store failing (disk full, its folder replaced by a file) must not make evidence()
    raise: the weight event that asked for it would be lost. Runs on a fake interpreter everywhere."""
    import shutil

    from edge.config.detector import DetectorSection
    from edge.vision.detector import Detector

    from .fakes import LABELS, FakeInterpreter, ssd_outputs
    from .frames import write_frames

    frames = tmp_path / "frames"
    write_frames(frames, 40, 0.05, image_for=lambda i: np.full((348, 696, 3), 90 + i, np.uint8))
    banana_on_the_left = FakeInterpreter(ssd_outputs([[0.1, 0.1, 0.9, 0.4]], [2], [0.9]))
    detector = Detector(banana_on_the_left, LABELS, DetectorSection(model=Path("fake.tflite"), labels=Path("l.txt")))
    vision = VisionService(make_config(tmp_path, frames, tmp_path), detector=detector)
    try:
        vision.start()
        assert wait_until(lambda: len(vision.ring) >= 2)
        shutil.rmtree(vision.snapshots.directory)
        vision.snapshots.directory.write_text("not a directory any more\n")
        evidence = vision.evidence(0, 2e9)
        # the picture is drawn and written on the writer's thread: the id is given at once, then given up
        assert wait_until(lambda: vision.status().snapshot_errors == 1)
    finally:
        vision.stop()
    assert evidence["left"].labels["banana"][0] == 0.9
    assert evidence["left"].snapshot is None or vision.snapshots.get(evidence["left"].snapshot, wait_s=5) is None
    assert evidence["right"].labels == {}
    assert vision.status().snapshot_errors == 1


# The worker-thread tests, one body each, over the real camera files and model here (the fixture above) as over
# the fake camera and interpreter in test_service_fake.py: pytest gives an imported test this module's `service`.
from tests.vision.test_service_fake import (  # noqa: E402
    test_evidence_that_times_out_takes_its_frames_back_from_the_worker,
    test_evidence_waiting_on_the_worker_goes_on_when_the_service_stops,
    test_on_demand_detections_run_on_the_worker_thread_and_inline_without_it,
)

__all__ = [
    "test_evidence_that_times_out_takes_its_frames_back_from_the_worker",
    "test_evidence_waiting_on_the_worker_goes_on_when_the_service_stops",
    "test_on_demand_detections_run_on_the_worker_thread_and_inline_without_it",
]
