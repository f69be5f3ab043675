"""Camera JPEG decoding: simplejpeg and the OpenCV fallback give the same pixels and the same errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import edge.hw.jpeg as jpeg
from edge.errors import CameraError
from edge.hw.camera import JpegFrame
from tests.vision.frames import HEIGHT, WIDTH, still


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


def test_undecodable_frames_raise_camera_error_naming_the_frame(decoder: str) -> None:
    garbage = np.frombuffer(b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9", np.uint8)
    with pytest.raises(CameraError, match=r"frame directory /x: 17\.jpg: corrupt JPEG frame"):
        jpeg.decode_jpeg(garbage, "frame directory /x: 17.jpg")


def test_padded_frames_decode_and_cut_frames_are_refused_with_either_decoder(decoder: str) -> None:
    data = encoded_still().tobytes()
    padded = np.frombuffer(data[:-2] + bytes(16) + data[-2:], np.uint8)  # stray bytes before EOI, as UVC cams do
    assert jpeg.decode_jpeg(padded, "camera 0").shape == (HEIGHT, WIDTH, 3)
    trailing = np.frombuffer(data + bytes(4096), np.uint8)  # a driver buffer longer than the frame
    assert jpeg.decode_jpeg(trailing, "camera 0").shape == (HEIGHT, WIDTH, 3)
    scan_start = data.index(b"\xff\xda")  # start of scan: cut the entropy-coded data in half
    cut = np.frombuffer(data[: (scan_start + len(data)) // 2], np.uint8)
    with pytest.raises(CameraError, match="camera 0: JPEG frame cut short"):
        jpeg.decode_jpeg(cut, "camera 0")


def test_raw_capture_output_is_classified_as_jpeg_packet_image_or_unknown() -> None:
    from edge.hw.camera import as_polled_image

    packet = encoded_still()
    as_row = as_polled_image(packet.reshape(1, -1), "camera 0")  # OpenCV's V4L2 raw mode: 1 x N bytes
    assert isinstance(as_row, JpegFrame) and as_row.decode().shape == (HEIGHT, WIDTH, 3)
    assert isinstance(as_polled_image(packet, "camera 0"), JpegFrame)
    bgr = still()
    assert as_polled_image(bgr, "camera 0") is bgr
    yuyv = np.zeros((1, WIDTH * HEIGHT * 2), np.uint8)  # a raw YUYV buffer: not a JPEG, not an image
    assert as_polled_image(yuyv, "camera 0") is None
    assert as_polled_image(np.zeros((HEIGHT, WIDTH, 2), np.uint8), "camera 0") is None


def test_corrupt_jpeg_frame_raises_camera_error_naming_it() -> None:
    garbage = np.frombuffer(b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9", np.uint8)
    with pytest.raises(CameraError, match="corrupt JPEG frame"):
        JpegFrame(garbage, "frame directory /x: 1.jpg").decode()
