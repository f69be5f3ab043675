"""The rendered camera, live, as an MJPEG stream over HTTP: what an IP camera serves, for the daemon's
`[camera] source = "http://127.0.0.1:PORT/camera.mjpg"` (edge.hw.camera_live.StreamSource reads it).

The frames are the live frame directory's (edge.sim.camera.output.LivePlayer plays both: same renderer,
same seed, same pace); each is published into one slot holding the newest frame, and every client has a
thread of its own sending `multipart/x-mixed-replace` parts (JPEG, with Content-Length) from that slot.
So a client that connects late starts at the current frame, a slow client skips frames instead of
holding up the renderer, and a client that goes away mid-part ends only its own thread.

While the simulated camera is lost (a `camera_down` action) the server behaves as an IP camera that
went off the network: open streams are closed and new ones refused (503) until it is back.

    stream = MjpegStream("127.0.0.1", 8081)     # binds: CameraError if the port is in use
    print(stream.url)                           # http://127.0.0.1:8081/camera.mjpg
    stream.start(camera, until)
    stream.stop()
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from edge.errors import CameraError
from edge.sim.camera.output import LivePlayer
from edge.sim.camera.renderer import RenderedCamera

log = logging.getLogger(__name__)

STREAM_PATH = "/camera.mjpg"
BOUNDARY = "shelfnodeframe"
CLIENT_TIMEOUT_S = 10.0  # a client that takes no data for this long is dropped
# A few frames queued in the kernel per client, not seconds of them: a slow client gets fresh frames
# (it skips the rest), never a growing backlog. Linux doubles the figure.
SEND_BUFFER_BYTES = 64 * 1024
LOST_CHECK_S = 0.25  # how often a waiting client thread looks whether the camera was lost


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, or `PORT` alone (loopback) -> (host, port); port 0 picks a free one."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: give HOST:PORT, e.g. 127.0.0.1:8081 (port 0-65535; 0 picks a free one)")
    return host, int(port)


class FrameSlot:
    """The newest frame, for any number of readers; publishing never waits for one."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._seq = 0
        self._frame: tuple[int, bytes] | None = None  # (unix ms, JPEG)
        self._published_at = 0.0
        self._closed = False

    def publish(self, ms: int, data: bytes) -> None:
        with self._changed:
            self._seq += 1
            self._frame, self._published_at = (ms, data), time.monotonic()
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def newest_ms(self) -> int | None:
        """The unix ms of the newest frame published (None before the first)."""
        frame = self._frame
        return None if frame is None else frame[0]

    def current(self, fresh_s: float) -> int:
        """The sequence number a new reader starts after: the current frame's, so that it gets the next,
        unless the current frame is at most `fresh_s` old, then it gets that one first."""
        with self._changed:
            fresh = self._frame is not None and time.monotonic() - self._published_at <= fresh_s
            return self._seq - 1 if fresh else self._seq

    def next_after(self, seq: int, timeout: float) -> tuple[int, int, bytes] | None:
        """(seq, ms, JPEG) of the newest frame after `seq` (frames in between are skipped), or None when
        none came within `timeout` or the slot is closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._seq > seq or self._closed, timeout)
            if self._closed or self._seq <= seq or self._frame is None:
                return None
            return self._seq, *self._frame


class _Player(LivePlayer):
    def __init__(self, camera: RenderedCamera, until: float, slot: FrameSlot) -> None:
        super().__init__(camera, until, name="sim-camera-mjpeg")
        self.slot = slot

    def deliver(self, ms: int, data: bytes) -> None:
        self.slot.publish(ms, data)

    def ended(self) -> None:
        self.slot.close()  # the camera's scenario is over: streams end, as a camera switched off


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # client threads end with the slot; none may keep the process alive
    allow_reuse_address = True  # a restart right after a stop may bind again (no TIME_WAIT refusal)

    def __init__(self, address: tuple[str, int], stream: MjpegStream) -> None:
        self.stream = stream
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _StreamHandler)


class _StreamHandler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CLIENT_TIMEOUT_S
    server_version = "shelf-node-sim-camera"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if path == "/":
                page = f'<html><body><img src="{STREAM_PATH}"></body></html>\n'.encode()
                self._reply(200, "text/html", page)
            elif path != STREAM_PATH:
                self._reply(404, "text/plain", f"no such path; the camera's stream is {STREAM_PATH}\n".encode())
            elif self.server.stream.lost():
                self._reply(503, "text/plain", b"the simulated camera is lost (camera_down); try again later\n")
            else:
                self._stream()
        except (ConnectionError, TimeoutError) as exc:  # the client went away or stopped reading
            log.debug("simulated camera: client %s gone (%s)", self.client_address[0], exc)

    def _reply(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self) -> None:
        stream = self.server.stream
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache, no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        seq = stream.slot.current(stream.fresh_s)
        stream.client_joined()
        try:
            self._parts(stream, seq)
        finally:
            stream.client_left()

    def _parts(self, stream: MjpegStream, seq: int) -> None:
        """Parts until the camera is lost (the connection is then closed) or its scenario ends."""
        while not stream.lost():
            frame = stream.slot.next_after(seq, LOST_CHECK_S)
            if frame is None:
                if stream.slot.closed:
                    self.wfile.write(f"--{BOUNDARY}--\r\n".encode())
                    return
                continue
            stream.count_skipped(frame[0] - seq - 1)
            seq, ms, data = frame
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
            self.wfile.write(f"{head}X-Timestamp: {ms}\r\n\r\n".encode() + data + b"\r\n")
            stream.count_sent()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("simulated camera %s: " + format, self.client_address[0], *args)


class MjpegStream:
    """The rendered camera served live on http://HOST:PORT/camera.mjpg (port 0: a free one). Binds on
    construction, so a port in use is a CameraError there, before anything else starts (and the URL is
    known before the camera: a node config can name it); `start(camera, until)` plays the frames."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.slot = FrameSlot()
        self.fresh_s = 1.5  # a frame this young is still "the current frame" (1.5 idle periods, from start())
        self.clients = 0  # connected now
        self.clients_served = 0
        self.frames_sent = 0  # parts written, over all clients
        self.frames_skipped = 0  # frames a slow client did not get (it got a newer one)
        self._counts = threading.Lock()
        self._player: _Player | None = None
        try:
            self._server = _Server((host, port), self)
        except OSError as exc:
            raise CameraError(_bind_problem(host, port, exc)) from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-camera-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{STREAM_PATH}"

    @property
    def camera(self) -> RenderedCamera:
        if self._player is None:
            raise RuntimeError("the stream has no camera before start()")
        return self._player.camera

    @property
    def frames_played(self) -> int:
        return self._player.frames_played if self._player else 0

    @property
    def frames_late(self) -> int:
        return self._player.frames_late if self._player else 0

    @property
    def error(self) -> str | None:
        return self._player.error if self._player else None

    def start(self, camera: RenderedCamera, until: float) -> Self:
        """Serve `camera`'s frames (its truth on the wall clock) as the clock reaches them, until `until`."""
        if self._player is not None:
            raise RuntimeError("the stream is already started")
        self.fresh_s = 1.5 / camera.idle_fps
        self._player = _Player(camera, until, self.slot)
        self._thread.start()
        self._player.start()
        return self

    def playing(self) -> bool:
        return self._player is not None and self._player.playing()

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self.slot.close()
        if self._thread.ident is not None:
            self._server.shutdown()
            self._thread.join(timeout=5.0)
        self._server.server_close()

    def lost(self) -> bool:
        """The simulated camera is in an outage now (wall clock)."""
        return self._player is not None and self._player.camera.timeline.camera_lost(time.time())

    def client_joined(self) -> None:
        with self._counts:
            self.clients += 1
            self.clients_served += 1

    def client_left(self) -> None:
        with self._counts:
            self.clients -= 1

    def count_sent(self) -> None:
        with self._counts:
            self.frames_sent += 1

    def count_skipped(self, frames: int) -> None:
        if frames > 0:
            with self._counts:
                self.frames_skipped += frames


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot serve the camera stream on {where}: port {port} is in use (another sim run, or another "
            f"server: `ss -ltnp 'sport = :{port}'` names it); stop it or pick another port, e.g. "
            f"--camera-mjpeg {host}:0 for a free one"
        )
    if exc.errno == errno.EACCES:
        return f"cannot serve the camera stream on {where}: ports below 1024 need root; pick a port >= 1024"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot serve the camera stream on {where}: {host} is not an address of this host; use 127.0.0.1"
    return f"cannot serve the camera stream on {where}: {exc.strerror or exc}"
