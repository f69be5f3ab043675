"""VisionService's threads, look-back, timeouts, stop and camera loss over the fake camera and the fake
interpreter: runs everywhere (the real-model versions in test_service.py need ../shared)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge.config import NodeConfig
from edge.hw.camera_fake import FakeCamera
from edge.vision.service import VisionService
from tests.plugins.waiting import wait_until

from .fakes import banana_detector

WIDTH, HEIGHT = 696, 348


def fake_config(tmp_path: Path, **camera: object) -> NodeConfig:
    return NodeConfig.model_validate({
        "node": {"store_id": "s1", "node_id": "n1", "state_dir": str(tmp_path / "state")},
        "serial": {"port": "loop://"},
        "plates": [
            {"name": "left", "channels": [0], "roi": [[0, 0], [348, 0], [348, 348], [0, 348]]},
            {"name": "right", "channels": [1], "roi": [[348, 0], [696, 0], [696, 348], [348, 348]]},
        ],
        "camera": {"source": "fake", "idle_fps": 5, "active_fps": 20, "snapshot_max_count": 5,
                   "dropout_s": 0.5, "retry_min_s": 0.1, "retry_max_s": 0.2, **camera},
    })


@pytest.fixture
def camera() -> FakeCamera:
    return FakeCamera(WIDTH, HEIGHT, fps=20.0, jpeg=True)


@pytest.fixture
def service(tmp_path: Path, camera: FakeCamera) -> Iterator[VisionService]:
    (tmp_path / "state").mkdir()
    vision = VisionService(fake_config(tmp_path), source=camera, detector=banana_detector())
    yield vision
    vision.stop()


def test_look_back_analyses_frames_taken_before_the_shelf_was_active(service: VisionService) -> None:
    service.start()
    assert wait_until(lambda: len(service.ring) >= 4)
    assert service.status().detected == 0  # idle frames are not detected on the fly
    evidence = service.evidence(0, 2e9)
    left, right = evidence["left"], evidence["right"]
    assert left.labels["banana"] == pytest.approx((0.9, 0.9)) and left.frames >= 4 and right.labels == {}
    assert service.status().detected_on_demand >= 4
    assert left.snapshot is not None and (service.snapshots.get(left.snapshot, wait_s=5) or b"")[:2] == b"\xff\xd8"


def test_on_demand_detections_run_on_the_worker_thread_and_inline_without_it(service: VisionService) -> None:
    assert service.detector is not None
    invoked_on: list[str] = []
    invoke = service.detector.invoke

    def recording_invoke(tensor: np.ndarray) -> list:
        invoked_on.append(threading.current_thread().name)
        return invoke(tensor)

    service.detector.invoke = recording_invoke  # type: ignore[method-assign]
    record = service.ring.push(time.time(), np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    service.evidence(0, 2e9)  # not started: no worker, the caller runs the detector itself
    assert invoked_on == [threading.current_thread().name] and record.detections is not None
    invoked_on.clear()
    service.start()
    assert wait_until(lambda: len(service.ring) >= 5)
    before = service.status().detected_on_demand
    evidence = service.evidence(0, 2e9, max_on_demand=3)
    assert invoked_on and set(invoked_on) == {"vision-detector"}
    assert service.status().detected_on_demand - before == 3 and evidence["left"].frames >= 3


def test_active_frames_are_detected_live_by_the_worker(service: VisionService, camera: FakeCamera) -> None:
    service.start()
    service.set_active(True)
    assert wait_until(lambda: service.status().detected >= 5, timeout=8)
    status = service.status()
    assert status.camera.mode == "active" and status.detector_errors == 0 and status.camera.camera_ok
    assert service.snapshot(annotate=True)[:2] == b"\xff\xd8"


def test_evidence_waiting_on_the_worker_goes_on_when_the_service_stops(service: VisionService) -> None:
    from edge.vision.service import ON_DEMAND_TIMEOUT_S

    assert service.detector is not None
    gate, run = threading.Event(), service.detector.run

    def held_run(prepared: object, threshold: float | None = None) -> list:
        gate.wait(10)  # the worker is busy on a live frame while evidence() queues its look-back frames
        return run(prepared, threshold)  # type: ignore[arg-type]

    service.detector.run = held_run  # type: ignore[method-assign,assignment]
    service.start()
    service.set_active(True)
    assert wait_until(lambda: len(service.ring) >= 4 and service.status().detected == 0)
    done = threading.Event()
    caller = threading.Thread(target=lambda: (service.evidence(0, 2e9), done.set()))
    caller.start()
    assert wait_until(lambda: len(service._requests) > 0)
    stopper = threading.Thread(target=service.stop)
    stopper.start()
    assert wait_until(lambda: service._stop.is_set())
    started = time.monotonic()
    gate.set()
    assert done.wait(ON_DEMAND_TIMEOUT_S / 2), "evidence() still waiting after the worker stopped"
    assert time.monotonic() - started < ON_DEMAND_TIMEOUT_S / 2
    stopper.join(10)
    caller.join(10)


def test_evidence_that_times_out_takes_its_frames_back_from_the_worker(
    service: VisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edge.vision.service as service_module

    assert service.detector is not None
    gate, run = threading.Event(), service.detector.run

    def held_run(prepared: object, threshold: float | None = None) -> list:
        gate.wait(10)  # a detector far slower than the events
        return run(prepared, threshold)  # type: ignore[arg-type]

    service.detector.run = held_run  # type: ignore[method-assign,assignment]
    monkeypatch.setattr(service_module, "ON_DEMAND_TIMEOUT_S", 0.3)
    service.start()
    service.set_active(True)
    assert wait_until(lambda: len(service.ring) >= 4)
    started = time.monotonic()
    evidence = service.evidence(0, 2e9, max_on_demand=3)
    assert time.monotonic() - started < 3.0
    assert all(e.frames == 0 for e in evidence.values())
    assert len(service._requests) == 0, "timed-out look-back frames still queued ahead of live frames"
    gate.set()
    assert wait_until(lambda: service.status().detected >= 2)
    assert service.status().detected_on_demand == 0


def test_an_unplugged_camera_is_reported_and_reconnected_and_evidence_never_raises(
    service: VisionService, camera: FakeCamera
) -> None:
    service.start()
    assert wait_until(lambda: service.status().camera.camera_ok)
    camera.unplug("USB cable pulled")
    assert wait_until(lambda: not service.status().camera.camera_ok)
    assert "USB cable pulled" in (service.status().camera.camera_error or "")
    evidence = service.evidence(time.time() - 0.2, time.time())  # the window of an event while it is down
    assert all(e.frames == 0 and e.labels == {} for e in evidence.values())
    camera.plug_in()
    assert wait_until(lambda: service.status().camera.camera_ok, timeout=5)
    status = service.status().camera
    assert status.dropouts == 1 and status.reconnects >= 1 and camera.opens >= 2


def test_a_camera_that_goes_silent_is_lost_after_dropout_s_with_its_reason(
    service: VisionService, camera: FakeCamera
) -> None:
    service.start()
    assert wait_until(lambda: service.status().camera.camera_ok)
    camera.freeze()
    assert wait_until(lambda: not service.status().camera.camera_ok, timeout=5)
    assert "frozen" in (service.status().camera.camera_error or "")
    camera.thaw()
    assert wait_until(lambda: service.status().camera.camera_ok, timeout=5)


def test_evidence_snapshots_are_drawn_off_the_callers_thread(service: VisionService) -> None:
    """evidence() hands out the snapshot id at once; the annotate + JPEG encode run on the writer thread."""
    import edge.hw.draw as draw

    drawn_on: list[str] = []
    annotate = draw.annotate

    def recording_annotate(*args: object, **kwargs: object) -> np.ndarray:
        drawn_on.append(threading.current_thread().name)
        return annotate(*args, **kwargs)  # type: ignore[arg-type]

    draw.annotate = recording_annotate  # type: ignore[assignment]
    try:
        service.start()
        assert wait_until(lambda: len(service.ring) >= 3)
        snapshot = service.evidence(0, 2e9)["left"].snapshot
        assert snapshot is not None
        assert (service.snapshots.get(snapshot, wait_s=5) or b"")[:2] == b"\xff\xd8"
    finally:
        draw.annotate = annotate  # type: ignore[assignment]
    assert drawn_on == ["snapshot-writer"]
