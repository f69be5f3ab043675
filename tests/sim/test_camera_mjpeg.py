"""The rendered camera as an MJPEG stream over HTTP (edge/sim/camera/mjpeg.py), read by the daemon's own
StreamSource (OpenCV/FFmpeg) as an IP camera is: the frames are the renderer's for the seed, late and
slow clients, a client that leaves mid-part, a camera outage, a port in use, and `sim run --camera-mjpeg`."""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edge.cli import cli
from edge.errors import CameraError
from edge.hw.camera_live import StreamSource
from edge.sim.camera import MjpegStream, RenderedCamera, ShelfView
from edge.sim.camera.mjpeg import parse_address
from edge.sim.camera.timeline import Nuisances
from edge.sim.engine import Simulation, layout_for
from tests.plugins.waiting import wait_until
from tests.sim.test_camera_render import PICK_AND_PUT, PLATES, shelf_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def opencv_reads_http() -> None:
    import cv2

    if not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        pytest.skip("this OpenCV build has no FFmpeg backend, so StreamSource cannot read HTTP streams")


def wall_clock_camera(seed: int | None = None, pick_in_s: float = 0.5, **nuisances: float) -> RenderedCamera:
    """The test shelf's camera with its first pick `pick_in_s` from now (the truth on the wall clock)."""
    scenario = shelf_scenario(PICK_AND_PUT)
    shift = time.time() - 3.0 + pick_in_s  # the first pick is at scenario second 3
    truth = [r.shifted(shift) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    return RenderedCamera(truth, scenario.items, ShelfView.grid(PLATES), scenario.seed if seed is None else seed,
                          None, nuisances=Nuisances(**{"drop_frame": 0.0, **nuisances}))  # fmt: skip


def renderer_like(camera: RenderedCamera, seed: int | None = None) -> RenderedCamera:
    """Another renderer of `camera`'s truth, with its seed or another."""
    seed = camera.seed if seed is None else seed
    return RenderedCamera(camera.truth, camera.items, camera.view, seed, None, nuisances=camera.nuisances)


@pytest.fixture
def stream() -> Iterator[MjpegStream]:
    served = MjpegStream().start(wall_clock_camera(), time.time() + 30.0)
    yield served
    served.stop()


def read_frames(source: StreamSource, count: int, timeout: float = 10.0) -> list[np.ndarray]:
    images: list[np.ndarray] = []

    def more() -> bool:
        frame = source.read()
        if frame is not None:
            images.append(frame[1])
        return len(images) >= count

    assert wait_until(more, timeout, step=0.02), f"{len(images)} of {count} frames in {timeout} s"
    return images


def decoded_frames(camera: RenderedCamera, t0: float, t1: float) -> dict[int, np.ndarray]:
    """Frames decoded by OpenCV's imdecode (libjpeg), nearer FFmpeg's than simplejpeg's decode (no fancy
    chroma upsampling)."""
    import cv2

    frames = {}
    for ms in camera.frame_times(t0, t1):
        image = cv2.imdecode(np.frombuffer(camera.jpeg(ms), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None, f"frame {ms} is not a JPEG"
        frames[ms] = image.astype(np.int16)
    return frames


def nearest(image: np.ndarray, frames: dict[int, np.ndarray]) -> tuple[int, float]:
    """The frame time in `frames` whose picture is nearest `image`, and their mean difference (grey levels)."""
    scores = {ms: float(np.abs(frame - image).mean()) for ms, frame in frames.items()}
    best = min(scores, key=scores.__getitem__)
    return best, scores[best]


def test_stream_source_gets_the_rendered_frames_of_the_seed(stream: MjpegStream) -> None:
    opened = time.time()
    source = StreamSource(stream.url)
    source.open()
    try:
        images = read_frames(source, 5)
    finally:
        source.close()
    # a second renderer of the same truth and seed makes the same frames; the first frame read may predate
    # `opened` (a client starts at the newest frame), by less than an idle period
    twin = decoded_frames(renderer_like(stream.camera), opened - 1.0 / stream.camera.idle_fps, time.time())
    other = renderer_like(stream.camera, seed=stream.camera.seed + 1)
    view = stream.camera.view
    assert all(image.shape == (view.height, view.width, 3) for image in images)
    for image in images:
        ms, difference = nearest(image, twin)
        # FFmpeg decodes and converts to BGR (swscale) a little differently from libjpeg: 0.7-1.4 levels here
        assert difference < 2.5, f"frame nearest {ms} differs by {difference:.2f} grey levels"
        assert nearest(image, decoded_frames(other, ms / 1000, ms / 1000))[1] > 2 * difference + 1.0
    assert stream.frames_sent >= len(images) and stream.error is None


def raw_client(url: str, receive_buffer: int | None = None) -> socket.socket:
    host, port = parse_address(url.removeprefix("http://").split("/", 1)[0])
    client = socket.socket()
    if receive_buffer is not None:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.settimeout(10.0)
    client.connect((host, port))
    client.sendall(f"GET /camera.mjpg HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return client


def read_until(client: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    while marker not in data:
        chunk = client.recv(65536)
        assert chunk, f"the stream closed before {marker!r}"
        data += chunk
    return data


def stamps(data: bytes) -> list[int]:
    return [int(ms) for ms in re.findall(rb"X-Timestamp: (\d+)\r\n", data)]


def test_late_client_starts_at_the_current_frame_and_a_rude_one_harms_nobody(
    stream: MjpegStream, capfd: pytest.CaptureFixture[str]
) -> None:
    assert wait_until(lambda: stream.frames_played >= 3, 5)
    rude = raw_client(stream.url)
    head = read_until(rude, b"Content-Length: ")
    assert b"200" in head.split(b"\r\n", 1)[0] and b"multipart/x-mixed-replace; boundary=" in head
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rude.close()  # mid-part, with a reset
    newest = stream.slot.newest_ms
    assert newest is not None
    late = raw_client(stream.url)
    try:
        data = read_until(late, b"\r\n\r\n", read_until(late, b"X-Timestamp: "))
        first = stamps(data)[0]
        assert newest <= first <= time.time() * 1000  # the current frame onward, none from the future
        assert wait_until(lambda: stream.clients == 1, 5), stream.clients  # the rude one is gone
        source = StreamSource(stream.url)  # a third client, while the second stays connected
        source.open()
        try:
            assert len(read_frames(source, 3)) == 3 and stream.clients == 2
        finally:
            source.close()
    finally:
        late.close()
    assert wait_until(lambda: stream.clients == 0, 5)
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(stream.url.replace("/camera.mjpg", "/video"), timeout=5)
    assert wrong.value.code == 404 and b"/camera.mjpg" in wrong.value.read()
    with urllib.request.urlopen(stream.url.replace("/camera.mjpg", "/"), timeout=5) as page:
        assert b'<img src="/camera.mjpg">' in page.read()  # a browser's view of the stream
    assert stream.playing() and stream.error is None
    assert "Traceback" not in capfd.readouterr().err


def test_a_client_that_does_not_read_skips_frames_and_never_holds_up_the_renderer(stream: MjpegStream) -> None:
    slow = raw_client(stream.url, receive_buffer=4096)
    try:
        data = read_until(slow, b"X-Timestamp: ")
        # it reads nothing more: its thread blocks in a send while the renderer goes on (frames it could not
        # render in time on a loaded machine are `frames_late`, not counted here)
        assert wait_until(lambda: stream.frames_played >= stream.frames_sent + 8, 15), stream.frames_played
        while len(stamps(data)) < 12:  # reading again: it gets frames again, the newest ones
            data += slow.recv(65536)
        assert wait_until(lambda: stream.frames_skipped > 0, 5)
    finally:
        slow.close()
    got = stamps(data)
    assert got == sorted(got) and len(set(got)) == len(got)
    missed = set(stream.camera.frame_times(got[0] / 1000, got[-1] / 1000)) - set(got)
    assert missed, "the slow client got every frame"


def test_while_the_camera_is_lost_streams_close_and_new_ones_are_refused() -> None:
    camera = wall_clock_camera(pick_in_s=-14.0)  # the camera_down (scenario 20-26 s) starts 3 s from now
    served = MjpegStream().start(camera, time.time() + 30.0)
    source = StreamSource(served.url)

    def read_on() -> bool:
        source.read()
        return False

    try:
        source.open()
        read_frames(source, 1)
        with pytest.raises(CameraError, match="ended or lost"):
            wait_until(read_on, 10)
        assert served.lost()
        with pytest.raises(CameraError, match="cannot open"):
            source.open()  # a 503
    finally:
        source.close()
        served.stop()


def test_a_port_in_use_is_named_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CameraError, match=f"port {port} is in use.*--camera-mjpeg 127.0.0.1:0"):
            MjpegStream("127.0.0.1", port)
        result = CliRunner().invoke(cli, ["sim", "run", "--duration", "5", "--images", "none",
                                          "--camera-mjpeg", f"127.0.0.1:{port}"])  # fmt: skip
    assert result.exit_code == 1 and f"port {port} is in use" in result.output, result.output
    assert "Traceback" not in result.output


def test_bad_camera_mjpeg_options_are_refused() -> None:
    for address in ("nowhere", "127.0.0.1:99999", "host:"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(address)
    assert parse_address("8081") == ("127.0.0.1", 8081) and parse_address("0.0.0.0:0") == ("0.0.0.0", 0)
    result = CliRunner().invoke(cli, ["sim", "run", "--duration", "5", "--camera-mjpeg", "x:y"])
    assert result.exit_code == 1 and "--camera-mjpeg 'x:y': give HOST:PORT" in result.output, result.output
    result = CliRunner().invoke(cli, ["sim", "run", "--frames", "f", "--camera-mjpeg", "0"])
    assert result.exit_code == 1 and "not both" in result.output


def test_sim_run_serves_the_stream_and_says_its_url(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "edge", "sim", "run", "--scenario", str(REPO / "config" / "sim-scenario.toml"),
               "--images", "none", "--camera-mjpeg", "127.0.0.1:0"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().decode().startswith("/dev/pts/")
        line = process.stderr.readline().decode()
        match = re.search(r'source = "(http://127\.0\.0\.1:\d+/camera\.mjpg)"', line)
        assert match, line
        source = StreamSource(match.group(1))
        source.open()
        try:
            assert read_frames(source, 2)[0].ndim == 3
        finally:
            source.close()
    finally:
        process.terminate()
        process.wait(10)
