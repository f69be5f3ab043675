"""Output decoding on constructed tensors with known answers: YOLO v5/v8, quantization, letterbox, NMS, SSD."""

from __future__ import annotations

import numpy as np
import pytest

from edge.errors import ModelError
from edge.vision.decode import OutputTensor, decode_ssd, decode_yolo, dequantize, guess_format
from edge.vision.detector import pixel_lut
from edge.vision.geometry import Letterbox
from edge.vision.labels import parse_labels
from edge.vision.nms import nms

INPUT = 320
# (cx, cy, w, h) normalised, then per-class scores for 3 classes
ROWS = [
    (0.50, 0.50, 0.20, 0.10, 0.90, 0.02, 0.01),  # class 0, strong
    (0.51, 0.50, 0.20, 0.10, 0.70, 0.03, 0.02),  # class 0, overlaps the first: suppressed
    (0.50, 0.51, 0.20, 0.10, 0.01, 0.80, 0.05),  # class 1, same place: kept (other class)
    (0.10, 0.10, 0.05, 0.05, 0.02, 0.01, 0.30),  # below threshold
]


def v8_tensor(rows: list[tuple[float, ...]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).T[None]  # [1, 4+C, N]


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: type) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale) + zero_point, info.min, info.max).astype(dtype)


def boxes_by_class(detections: list) -> dict[int, list[tuple[float, ...]]]:
    found: dict[int, list[tuple[float, ...]]] = {}
    for d in detections:
        found.setdefault(d.class_id, []).append(d.box)
    return found


def test_yolov8_float_decodes_and_nms_keeps_other_classes() -> None:
    detections = decode_yolo(OutputTensor("out", v8_tensor(ROWS)), "yolov8", INPUT, INPUT, 0.5, 0.45, 50)
    assert [(d.class_id, round(d.score, 2)) for d in detections] == [(0, 0.90), (1, 0.80)]
    assert detections[0].box == pytest.approx((128.0, 144.0, 192.0, 176.0), abs=1e-3)


@pytest.mark.parametrize(("dtype", "zero_point"), [(np.int8, -128), (np.uint8, 0)])
def test_yolov8_quantized_output_is_dequantized_with_its_parameters(dtype: type, zero_point: int) -> None:
    scale = 1 / 250
    tensor = quantize(v8_tensor(ROWS), scale, zero_point, dtype)
    output = OutputTensor("out", tensor, scale, zero_point)
    assert np.allclose(dequantize(output), v8_tensor(ROWS), atol=scale)
    detections = decode_yolo(output, "yolov8", INPUT, INPUT, 0.5, 0.45, 50)
    assert [d.class_id for d in detections] == [0, 1]
    assert detections[0].box == pytest.approx((128.0, 144.0, 192.0, 176.0), abs=1.0)


def test_yolov5_multiplies_objectness_and_reads_pixel_boxes() -> None:
    rows = [
        (160, 160, 64, 32, 0.9, 0.8, 0.1),  # 0.72 -> kept
        (100, 100, 20, 20, 0.6, 0.6, 0.1),  # 0.36 -> dropped although class score alone passes
        (200, 200, 20, 20, 0.3, 0.9, 0.9),  # objectness too low
    ]
    tensor = np.array(rows, dtype=np.float32)[None]  # [1, N, 5+C]
    detections = decode_yolo(OutputTensor("out", tensor), "yolov5", INPUT, INPUT, 0.5, 0.45, 50)
    assert len(detections) == 1
    assert detections[0].score == pytest.approx(0.72)
    assert detections[0].box == pytest.approx((128.0, 144.0, 192.0, 176.0))


def test_letterbox_is_undone_to_frame_pixels() -> None:
    box = Letterbox.fit(640, 480, INPUT, INPUT)  # scale 0.5, 320x240 placed 40 px down
    assert (box.scale_x, box.pad_x, box.pad_y) == (0.5, 0, 40)
    detections = decode_yolo(OutputTensor("out", v8_tensor(ROWS)), "yolov8", INPUT, INPUT, 0.5, 0.45, 50)
    assert box.to_frame(detections[0].box) == (256, 208, 384, 272)
    assert box.to_frame((-10.0, 0.0, 400.0, 330.0)) == (0, 0, 640, 480)  # clipped to the frame


def test_nms_suppresses_overlaps_within_a_class_only() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], dtype=np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)
    classes = np.array([0, 0, 1, 0])
    assert nms(boxes, scores, classes, 0.45, 10) == [0, 2, 3]
    assert nms(boxes, scores, classes, 0.45, 2) == [0, 2]
    # One class for all: the identical box 2 goes, the 68%-overlapping box 1 stays under a loose threshold.
    assert nms(boxes, scores, np.zeros(4, dtype=np.int64), 0.9, 10) == [0, 1, 3]


def test_format_guess_from_output_shapes() -> None:
    assert guess_format([(1, 10, 4), (1, 10), (1, 10), (1,)]) == "ssd"
    assert guess_format([(1, 84, 8400)]) == "yolov8"
    assert guess_format([(1, 25200, 85)]) == "yolov5"
    with pytest.raises(ModelError, match="set \\[detector\\] format"):
        guess_format([(1, 1000)])


def ssd_outputs(names: tuple[str, str, str, str]) -> list[OutputTensor]:
    boxes = np.array([[[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 1.0]]], dtype=np.float32)
    classes = np.array([[51.0, 0.0]], dtype=np.float32)
    scores = np.array([[0.8, 0.4]], dtype=np.float32)
    count = np.array([2.0], dtype=np.float32)
    tensors = dict(zip(("boxes", "classes", "scores", "count"), (boxes, classes, scores, count), strict=True))
    # Deliberately out of the usual order: outputs must be chosen by name/shape, not position.
    order = ((2, "scores"), (3, "count"), (0, "boxes"), (1, "classes"))
    return [OutputTensor(names[i], tensors[key]) for i, key in order]


@pytest.mark.parametrize(
    "names",
    [
        tuple("TFLite_Detection_PostProcess" + suffix for suffix in ("", ":1", ":2", ":3")),
        tuple(f"StatefulPartitionedCall:{n}" for n in (1, 3, 0, 2)),  # TF2 export: names say nothing
    ],
)
def test_ssd_outputs_chosen_by_name_or_content(names: tuple[str, str, str, str]) -> None:
    detections = decode_ssd(ssd_outputs(names), 300, 300, 0.5)
    assert len(detections) == 1
    assert detections[0].class_id == 51 and detections[0].score == pytest.approx(0.8)
    assert detections[0].box == pytest.approx((60.0, 30.0, 180.0, 150.0))  # ymin,xmin,... -> x1,y1,x2,y2


def test_label_maps_with_offset_and_unused_ids() -> None:
    assert parse_labels("person\nbicycle\nn/a\ncar\n") == {0: "person", 1: "bicycle", 2: None, 3: "car"}
    assert parse_labels("???\nperson\nbicycle\n") == {0: "person", 1: "bicycle"}
    assert parse_labels("???\nperson\n", offset=0) == {0: None, 1: "person"}


def test_input_lookup_tables_follow_input_quantization() -> None:
    assert pixel_lut("-1..1", np.dtype(np.uint8), (0.0078125, 128)) is None  # SSD MobileNet: pixels as they are
    int8 = pixel_lut("0..1", np.dtype(np.int8), (1 / 255, -128))
    assert int8 is not None and int8[0] == -128 and int8[255] == 127 and int8[128] == 0
    floats = pixel_lut("-1..1", np.dtype(np.float32), (0.0, 0))
    assert floats is not None and floats[0] == pytest.approx(-1.0) and floats[255] == pytest.approx(1.0)
