"""The network stream source against a real local TCP server that accepts and then says nothing: open, poll and
close are bounded, and the silence is a drop-out the frame grabber recovers from (edge/hw/camera_live.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from edge.config.camera import CameraSection
from edge.errors import CameraError
from edge.hw.camera_live import CLOSE_WAIT_S, POLL_WAIT_S, StreamSource
from edge.hw.draw import encode_jpeg
from edge.vision.frame_grabber import CameraStatus, FrameGrabber
from tests.plugins.waiting import wait_until

BOUNDARY = b"frame"


@pytest.fixture(scope="module", autouse=True)
def opencv_reads_http() -> None:
    import cv2

    if not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        pytest.skip("this OpenCV build has no FFmpeg backend, so StreamSource cannot read HTTP streams")


class SilentServer:
    """A TCP server on 127.0.0.1. Connection i gets bursts[i] (the last one for later connections): None = no
    answer at all, n = an MJPEG-over-HTTP answer with n frames; then nothing more, the connection held open
    until the client closes it (recorded in `closed`) or the server stops."""

    def __init__(self, bursts: list[int | None]) -> None:
        self.bursts = bursts
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/camera.mjpg"
        self.accepted = 0
        self.closed: list[threading.Event] = []  # per connection: the client closed it
        self._connections: list[socket.socket] = []
        self._part = self._jpeg_part()
        self._thread = threading.Thread(target=self._accept_forever, daemon=True)
        self._thread.start()

    @staticmethod
    def _jpeg_part() -> bytes:
        image = np.full((48, 64, 3), 120, np.uint8)
        jpeg = encode_jpeg(image)
        head = b"--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % (BOUNDARY, len(jpeg))
        return head + jpeg + b"\r\n"

    def _accept_forever(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # the listener was closed: stop()
                return
            burst = self.bursts[min(self.accepted, len(self.bursts) - 1)]
            self.accepted += 1
            self._connections.append(connection)
            closed = threading.Event()
            self.closed.append(closed)
            threading.Thread(target=self._serve, args=(connection, burst, closed), daemon=True).start()

    def _serve(self, connection: socket.socket, burst: int | None, closed: threading.Event) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    closed.set()
                    return
                request += chunk
            if burst is not None:
                head = b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=%s\r\n\r\n" % BOUNDARY
                connection.sendall(head + self._part * burst)
            while connection.recv(4096):  # silence from here on; the client's close ends this
                pass
            closed.set()
        except OSError:  # stop() closed the connection under us
            closed.set()

    def stop(self) -> None:
        self._listener.close()
        for connection in self._connections:
            connection.close()
        self._thread.join(5)


@pytest.fixture
def servers() -> Iterator[list[SilentServer]]:
    started: list[SilentServer] = []
    yield started
    for server in started:
        server.stop()


def serve(servers: list[SilentServer], bursts: list[int | None]) -> SilentServer:
    server = SilentServer(bursts)
    servers.append(server)
    return server


def first_frame(source: StreamSource) -> None:
    assert wait_until(lambda: source.poll() is not None, 10, step=0.02), "no frame of the burst came"


def test_a_server_that_never_answers_fails_open_within_the_open_timeout(servers: list[SilentServer]) -> None:
    server = serve(servers, [None])
    source = StreamSource(server.url, open_timeout_s=1.0)
    began = time.monotonic()
    with pytest.raises(CameraError, match=r"cannot open.*no answer within 1 s"):
        source.open()
    assert time.monotonic() - began < 15  # OpenCV's own open timeout is 30 s
    assert server.accepted == 1  # connected, so the wait was for an answer, not a refused connection


def test_a_stream_that_goes_silent_is_lost_at_the_read_timeout_and_no_poll_waits_for_it(
    servers: list[SilentServer],
) -> None:
    server = serve(servers, [3])
    source = StreamSource(server.url, read_timeout_s=5.0)
    source.open()
    try:
        first_frame(source)
        silent_from = time.monotonic()
        longest, lost = 0.0, []

        def poll_once() -> bool:
            nonlocal longest
            began = time.monotonic()
            try:
                source.poll()
            except CameraError as exc:
                lost.append((time.monotonic(), str(exc)))
            longest = max(longest, time.monotonic() - began)
            return bool(lost)

        assert wait_until(poll_once, 20, step=0.05), "the silent stream was never declared lost"
    finally:
        source.close()
    at, reason = lost[0]
    assert "stream ended or lost (sent nothing for" in reason
    assert at - silent_from >= 0.9 * 5.0  # lost by the read timeout, not before it
    assert longest < 2.5, f"a poll waited {longest:.1f} s on the silent stream (bound {POLL_WAIT_S} s)"
    assert wait_until(server.closed[0].is_set, 5)  # the capture was released: the connection closed


def test_close_does_not_wait_for_a_grab_on_a_silent_stream_and_the_capture_is_still_released(
    servers: list[SilentServer],
) -> None:
    server = serve(servers, [3])
    source = StreamSource(server.url, read_timeout_s=3.0)
    source.open()
    first_frame(source)
    assert not server.closed[0].is_set()
    began = time.monotonic()
    source.close()  # the grab thread is inside a grab that waits out the 3 s read timeout
    assert time.monotonic() - began < CLOSE_WAIT_S + 1.0
    assert wait_until(server.closed[0].is_set, 10)  # the grab thread released the capture when its grab ended
    with pytest.raises(CameraError, match="not open"):
        source.poll()


def test_the_frame_grabber_takes_a_silent_stream_for_a_drop_out_and_reconnects(servers: list[SilentServer]) -> None:
    server = serve(servers, [3, 3])  # each connection: three frames, then silence
    statuses: list[CameraStatus] = []
    settings = CameraSection(
        source=server.url, idle_fps=10, active_fps=10, dropout_s=60, retry_min_s=0.05, retry_max_s=0.2, buffer_s=30
    )  # dropout_s far off: only the source's read timeout can end the silence
    grabber = FrameGrabber(StreamSource(server.url, read_timeout_s=1.0), settings, on_status=statuses.append)
    grabber.start()
    try:
        assert wait_until(lambda: grabber.status().reconnects >= 1 and grabber.status().camera_ok, 20)
    finally:
        grabber.stop()
    status = grabber.status()
    assert status.dropouts >= 1 and server.accepted >= 2
    lost = [s.camera_error for s in statuses if not s.camera_ok and s.camera_error != "not started"]
    assert lost and "sent nothing for" in str(lost[0]), lost
    assert [s.camera_ok for s in statuses][:3] == [True, False, True]
