"""Camera JPEG decoding: simplejpeg and the OpenCV fallback give the same pixels and the same errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import edge.hw.jpeg as jpeg
from edge.errors import CameraError
from edge.hw.camera import JpegFrame
from edge.vision.ring import FrameRing

from .frames import HEIGHT, WIDTH, still


def encoded_still() -> np.ndarray:
    import cv2

    ok, encoded = cv2.imencode(".jpg", still(), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.reshape(-1)


@pytest.fixture(params=["simplejpeg", "opencv"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "simplejpeg":
        pytest.importorskip("simplejpeg", reason="simplejpeg not installed (optional fast decoder)")
    else:
        monkeypatch.setattr(jpeg, "_simplejpeg", lambda: None)
    assert jpeg.decoder_name() == request.param
    yield request.param


def test_decoders_agree_with_opencv_imread_pixels(decoder: str) -> None:
    import cv2

    data = encoded_still()
    reference = cv2.imdecode(data, cv2.IMREAD_COLOR).astype(np.int16)
    image = jpeg.decode_jpeg(data, "test frame")
    assert image.shape == (HEIGHT, WIDTH, 3) and image.dtype == np.uint8
    # simplejpeg skips fancy chroma upsampling: a small difference in colour edges, none in luma.
    assert np.abs(image.astype(np.int16) - reference).mean() < 1.5


def test_decode_into_a_reused_buffer_only_when_it_fits(decoder: str) -> None:
    data = encoded_still()
    buffer = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    image = jpeg.decode_jpeg(data, "test frame", into=buffer)
    if decoder == "simplejpeg":
        assert np.shares_memory(image, buffer) and buffer.any()
    wrong = np.zeros((10, 10, 3), np.uint8)
    other = jpeg.decode_jpeg(data, "test frame", into=wrong)
    assert other.shape == (HEIGHT, WIDTH, 3) and not np.shares_memory(other, wrong) and not wrong.any()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_frames_raise_camera_error_naming_the_frame(decoder: str, damage: str) -> None:
    data = encoded_still()
    if damage == "garbage":
        data = np.frombuffer(b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9", np.uint8)
    else:
        data = data[: data.size // 3]
    try:
        jpeg.decode_jpeg(data, "frame directory /x: 17.jpg")
    except CameraError as exc:
        assert "frame directory /x: 17.jpg: corrupt JPEG frame" in str(exc)
    else:  # OpenCV decodes a truncated JPEG with a grey bottom instead of failing: allowed, not required
        assert decoder == "opencv" and damage == "truncated"


def test_ring_image_once_does_not_keep_the_decoded_frame() -> None:
    record = FrameRing(5.0).push(0.0, JpegFrame(encoded_still(), "test"))
    scratch = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    first = record.image_once(scratch)
    assert first.shape == (HEIGHT, WIDTH, 3) and not record.decoded
    kept = record.image  # an explicit look decodes and keeps it
    assert record.decoded and record.image_once(scratch) is kept
