"""Plate windows in the live service ([detector] crop_scale): run on the plates being handled only, at most
crop_max_windows per frame, never while the shelf is idle; their detections land in the plate's evidence in frame
pixels, merged as replay merges them (the same frames give the same evidence); a camera lost during a window is
no crash. Over the fake camera and a fake interpreter that looks at its input; one test with the real model."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.config import NodeConfig
from edge.hw.camera_fake import FakeCamera
from edge.hw.frames import Frame, PolledFrame
from edge.vision.recorded import RecordedCamera
from edge.vision.regions import regions_from_config
from edge.vision.ring import FrameRecord, Undecoded
from edge.vision.service import VisionService
from tests.plugins.waiting import wait_until

from .fakes import BANANA_RGB, HAND_RGB, colour_detector
from .test_service_fake import fake_config

WIDTH, HEIGHT = 696, 348  # two plates of 348 x 348: "left" and "right"
HAND, BANANA = HAND_RGB[::-1], BANANA_RGB[::-1]  # BGR
RIGHT_WINDOW_X0 = 348  # crop_scale 1: the right plate's window is the plate itself


def config(tmp_path: Path, **detector: object) -> NodeConfig:
    """test_service_fake's two plates and camera, with a [detector] (the fake is passed to the service)."""
    return NodeConfig.model_validate({**fake_config(tmp_path).model_dump(mode="json", exclude_unset=True),
                                      "detector": {"model": "fake.tflite", "labels": "l.txt", **detector}})


def shelf() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 160, np.uint8)  # light grey: the blue hand shows in the grey thumbnail


def banana_at(image: np.ndarray, x: int) -> tuple[int, int, int, int]:
    """A 40 x 28 banana with its top-left corner at (x, 120): too small for the fake's whole-frame look (about 46
    input pixels of the 60 it needs), large enough in a plate window (about 92). Its box in frame pixels."""
    image[120:148, x : x + 40] = BANANA
    return x, 120, x + 40, 148


def banana_in_hand(index: int, t: float) -> np.ndarray:
    """A hand holding a banana over the right plate, somewhere else in every frame."""
    image = shelf()
    x = 360 + (index * 53) % 260
    image[150:210, x : x + 60] = HAND
    banana_at(image, x + 10)
    return image


def hands_on_both(index: int, t: float) -> np.ndarray:
    """Two hands moving, the one over the right plate twice the size of the one over the left."""
    image = shelf()
    x = (index * 53) % 220
    image[150:210, 20 + x : 80 + x] = HAND
    image[100:220, 360 + x : 480 + x] = HAND
    return image


class Recording:
    """The fake camera, keeping every frame it hands out, as `serial record --frames` would: a FrameSource for
    the live service and, afterwards, the RecordedFrames of replay."""

    def __init__(self, camera: FakeCamera) -> None:
        self.camera = camera
        self.description = camera.description
        self.frames: dict[int, Undecoded] = {}

    def open(self) -> None:
        self.camera.open()

    def close(self) -> None:
        self.camera.close()

    def poll(self) -> PolledFrame | None:
        frame = self.camera.poll()
        if frame is not None:
            self.frames[round(frame[0] * 1000)] = frame[1]  # type: ignore[assignment]
        return frame

    def read(self) -> Frame | None:
        return self.camera.read()

    def why_silent(self) -> str | None:
        return self.camera.why_silent()

    def times_ms(self) -> Sequence[int]:
        return sorted(self.frames)

    def load(self, ms: int) -> Undecoded:
        return self.frames[ms]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., tuple[VisionService, FakeCamera]]]:
    (tmp_path / "state").mkdir()
    started: list[VisionService] = []

    def build(scene: Any = banana_in_hand, source: Any = None, **detector: object) -> tuple[VisionService, FakeCamera]:
        camera = FakeCamera(WIDTH, HEIGHT, fps=20.0, jpeg=True, scene=scene)
        vision = VisionService(config(tmp_path, **detector), source=source(camera) if source else camera,
                               detector=colour_detector())
        started.append(vision)
        return vision, camera

    yield build
    for vision in started:
        vision.stop()


def windowed(vision: VisionService) -> list[FrameRecord]:
    """The frames detected live with a window (the worker stores the windows first, then the detections)."""
    return [r for r in vision.ring.frames_between(0, 2e9) if r.windows and r.detections is not None]


def test_windows_run_on_the_handled_plate_and_its_items_land_in_its_evidence_in_frame_pixels(make: Any) -> None:
    vision, _ = make(crop_scale=1.0, crop_max_windows=2)
    vision.start()
    vision.set_active(True)
    assert wait_until(lambda: vision.status().windows >= 8, timeout=8)
    records = windowed(vision)
    assert records and all(set(r.windows) == {"right"} for r in records)  # the left plate is never handled
    for record in records:
        whole = {d.label for d in record.detections or ()}
        assert "person" in whole and "banana" not in whole  # the banana is too small in the whole frame
        (banana,) = [d for d in record.windows["right"] if d.label == "banana"]
        x0, y0, x1, y1 = banana.box
        assert x0 >= 360 and abs((x1 - x0) - 40) <= 6 and abs(y0 - 120) <= 4 and abs(y1 - 148) <= 4, banana.box
    evidence = vision.evidence(0, 2e9, max_on_demand=0, plates={"right"})
    assert "banana" in evidence["right"].labels and evidence["left"].labels == {}
    assert "banana" in vision.evidence(0, 2e9, max_on_demand=0)["right"].labels  # no plates given: all windows
    assert "banana" not in vision.evidence(0, 2e9, max_on_demand=0, plates={"left"})["right"].labels
    stats = vision.status().to_json()
    assert stats["windows"] >= 8 and stats["window_ms"] > 0 and stats["detect_ms"] > 0
    assert stats["windows"] <= stats["detected"] and stats["detector_errors"] == 0


@pytest.mark.parametrize("most", [1, 2])
def test_at_most_crop_max_windows_per_frame_the_most_moved_plates_first(make: Any, most: int) -> None:
    vision, _ = make(scene=hands_on_both, crop_scale=1.0, crop_max_windows=most)
    vision.start()
    vision.set_active(True)
    assert wait_until(lambda: vision.status().windows >= 10, timeout=8)
    records = windowed(vision)
    assert all(len(r.windows) <= most for r in records)
    if most == 1:
        assert all(set(r.windows) == {"right"} for r in records)  # its hand is the larger, so moved more
    else:
        assert sum(set(r.windows) == {"left", "right"} for r in records) >= len(records) // 2
    assert vision.status().windows <= most * vision.status().detected


def test_no_windows_while_idle_nor_for_plates_nobody_handles(make: Any) -> None:
    vision, camera = make(crop_scale=1.0, crop_max_windows=2)
    still = banana_in_hand(0, 0.0)
    camera.show(still)  # a hand held still over the right plate: idle frames
    vision.start()
    assert wait_until(lambda: len(vision.ring) >= 4)
    assert vision.evidence(0, 2e9)["right"].frames >= 4  # the look-back frames are detected on demand ...
    status = vision.status()
    assert status.detected == 0 and status.detected_on_demand >= 4 and status.windows == 0  # ... without windows

    vision, camera = make(crop_scale=1.0, crop_max_windows=2)
    nobody = shelf()
    banana_at(nobody, 500)  # the banana alone on the plate: no hand, nothing moves
    camera.show(nobody)
    vision.start()
    vision.set_active(True)
    assert wait_until(lambda: vision.status().detected >= 6, timeout=8)
    assert vision.status().windows == 0
    camera.show(still)  # a hand comes and stays still: handled (its box is over the plate) though it does not move
    assert wait_until(lambda: vision.status().windows >= 4, timeout=8)
    assert {plate for r in windowed(vision) for plate in r.windows} == {"right"}


@pytest.mark.parametrize("detector", [{"crop_scale": 1.0, "crop_max_windows": 0}, {}])
def test_windows_are_off_without_crop_scale_or_with_no_windows_allowed(make: Any, detector: dict) -> None:
    vision, _ = make(**detector)
    assert vision.windows is None
    vision.start()
    vision.set_active(True)
    assert wait_until(lambda: vision.status().detected >= 6, timeout=8)
    assert vision.status().windows == 0 and windowed(vision) == []


def test_a_camera_lost_while_a_window_is_being_invoked_is_no_crash(make: Any) -> None:
    vision, camera = make(crop_scale=1.0)
    assert vision.detector is not None
    gate, holding, run = threading.Event(), threading.Event(), vision.detector.run

    def held_run(prepared: Any, threshold: float | None = None) -> list:
        if prepared.letterbox.scale_x > 100 / WIDTH + 1e-9 and not gate.is_set():  # a window's input
            holding.set()
            gate.wait(10)
        return run(prepared, threshold)

    vision.detector.run = held_run
    vision.start()
    vision.set_active(True)
    assert holding.wait(8), "no window was invoked"
    camera.unplug("USB cable pulled")
    assert wait_until(lambda: not vision.status().camera.camera_ok)
    evidence = vision.evidence(0, 2e9, max_on_demand=0, plates={"right"})  # while the window is still running
    assert set(evidence) == {"left", "right"}
    gate.set()
    assert wait_until(lambda: vision.status().windows >= 1)
    camera.plug_in()
    assert wait_until(lambda: vision.status().camera.camera_ok, timeout=5)
    before = vision.status().windows
    assert wait_until(lambda: vision.status().windows > before, timeout=8)
    assert vision.status().detector_errors == 0 and vision.status().camera.dropouts == 1


def test_the_live_evidence_with_windows_is_replays_for_the_same_frames(make: Any) -> None:
    vision, _ = make(source=Recording, crop_scale=1.0, crop_max_windows=1)
    recording = vision.grabber.source
    assert isinstance(recording, Recording)

    def span() -> list[FrameRecord]:
        """The longest run of consecutive frames all detected live with the right plate's window."""
        best: list[FrameRecord] = []
        run: list[FrameRecord] = []
        for record in vision.ring.frames_between(0, 2e9):
            run = [*run, record] if record.detections is not None and set(record.windows) == {"right"} else []
            best = run if len(run) > len(best) else best
        return best

    vision.start()
    vision.set_active(True)
    assert wait_until(lambda: len(span()) >= 8, timeout=10)
    frames = span()
    t0, t1 = frames[0].t - 0.01, frames[-1].t + 0.01  # the frames either side are 50 ms away
    live = vision.evidence(t0, t1, max_on_demand=0, plates={"right"})
    live = {plate: dataclasses.replace(ev, snapshot=None) for plate, ev in live.items()}
    assert "banana" in live["right"].labels and live["right"].frames == len(frames)
    cfg = vision.config
    assert cfg.detector is not None
    replay = RecordedCamera(recording, cfg.camera, colour_detector(), regions_from_config(cfg.plates),
                            cfg.detector.hand_label, cfg.detector.roi_min_overlap, cfg.detector.crop_scale)
    replay.advance(t1)
    assert replay.evidence(t0, t1, {"right"}) == live
    assert replay.stats().windows == len(frames)


def banana_photo_on_the_right(images: Path) -> Callable[[int, float], np.ndarray]:
    """A banana (a shared photo, 110 px) moving over the right plate of an empty grey shelf: the real model sees
    it in about a third of the whole frames here, in every window around the plate (checked once by hand)."""
    import cv2

    photo = cv2.imread(str(images / "grocery-store" / "Fruit_Banana_Banana_001.jpg"))
    assert photo is not None, "the shared banana photo is missing"
    photo = cv2.resize(photo, (110, 110))

    def scene(index: int, t: float) -> np.ndarray:
        image = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
        x = 380 + (index * 53) % 190
        image[120:230, x : x + 110] = photo
        return image

    return scene


def test_the_real_model_sees_the_item_in_the_handled_plates_window(
    tmp_path: Path, shared_model_dir: Path, shared_images_dir: Path
) -> None:
    (tmp_path / "state").mkdir()
    cfg = NodeConfig.model_validate({
        **fake_config(tmp_path).model_dump(mode="json", exclude_unset=True),
        "detector": {"model": str(shared_model_dir / "detect.tflite"),
                     "labels": str(shared_model_dir / "coco_labels.txt"), "crop_scale": 1.0},
    })
    camera = FakeCamera(WIDTH, HEIGHT, fps=10.0, jpeg=True, scene=banana_photo_on_the_right(shared_images_dir))
    vision = VisionService(cfg, source=camera)
    try:
        vision.start()
        vision.set_active(True)
        assert wait_until(lambda: vision.status().windows >= 6, timeout=20)
        records = windowed(vision)
        assert all(set(r.windows) == {"right"} for r in records)  # the left plate is empty and still
        seen = [d for r in records for d in r.windows["right"] if d.label == "banana"]
        assert len(seen) >= 0.75 * len(records), [r.windows for r in records]
        assert all(d.box[0] >= RIGHT_WINDOW_X0 and d.box[1] >= 100 and d.box[3] <= 250 for d in seen)  # frame px
        t0, t1 = records[0].t, records[-1].t
        cropped = vision.evidence(t0, t1, max_on_demand=0, plates={"right"})["right"]
        whole = vision.evidence(t0, t1, max_on_demand=0, plates=())["right"]  # the same frames without windows
        assert cropped.label_frames["banana"] > whole.label_frames.get("banana", 0)
        assert max(cropped.labels, key=lambda label: cropped.labels[label][0]) == "banana"
        assert vision.status().window_ms > 0
    finally:
        vision.stop()
