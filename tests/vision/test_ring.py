"""The look-back ring: compressed frames decoded once on first look (or not kept at all), memory cap."""

from __future__ import annotations

import time

import numpy as np

from edge.hw.camera import JpegFrame
from edge.vision.ring import FrameRing

from .frames import HEIGHT, WIDTH, still


def encoded_still() -> np.ndarray:
    import cv2

    ok, encoded = cv2.imencode(".jpg", still(), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.reshape(-1)


def test_ring_image_once_does_not_keep_the_decoded_frame() -> None:
    record = FrameRing(5.0).push(0.0, JpegFrame(encoded_still(), "test"))
    scratch = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    first = record.image_once(scratch)
    assert first.shape == (HEIGHT, WIDTH, 3) and not record.decoded
    kept = record.image  # an explicit look decodes and keeps it
    assert record.decoded and record.image_once(scratch) is kept


def test_ring_keeps_its_memory_cap_and_always_the_newest_frame() -> None:
    decoded = np.zeros((HEIGHT, WIDTH, 3), np.uint8)  # 0.9 MB as a YUYV camera or a stream delivers it
    ring = FrameRing(60.0, max_bytes=4 * decoded.nbytes)
    for i in range(10):
        ring.push(float(i), decoded)
    assert len(ring) == 4 and ring.nbytes == 4 * decoded.nbytes
    assert [r.t for r in ring.frames_between(0, 100)] == [6.0, 7.0, 8.0, 9.0]
    compressed = JpegFrame(encoded_still(), "test")
    for i in range(10, 60):  # compressed frames: dozens fit where four decoded ones did
        ring.push(float(i), compressed)
    kept = ring.frames_between(0, 100)
    assert [r.t for r in kept if r.t >= 10] == [float(i) for i in range(10, 60)]
    assert ring.nbytes <= 4 * decoded.nbytes and len(kept) < 60
    tiny = FrameRing(60.0, max_bytes=1)
    tiny.push(1.0, decoded)
    assert len(tiny) == 1 and tiny.latest() is not None  # a frame larger than the cap still stays


def test_ring_decodes_a_compressed_frame_once_on_first_look() -> None:
    import cv2

    ok, encoded = cv2.imencode(".jpg", still())
    assert ok
    calls = []

    class Counting(JpegFrame):
        __slots__ = ()

        def decode(self) -> np.ndarray:
            calls.append(1)
            return super().decode()

    record = FrameRing(5.0).push(time.time(), Counting(encoded.reshape(-1), "test"))
    assert not record.decoded and calls == []
    first = record.image
    assert record.decoded and first.shape == (HEIGHT, WIDTH, 3)
    assert record.image is first and len(calls) == 1
