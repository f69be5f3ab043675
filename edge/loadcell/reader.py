"""The serial port reader: one thread that opens the port, splits and decodes lines, and survives unplugging.

The only module that imports pyserial, and only inside the thread's open call. The port string
goes to `serial.serial_for_url`, so /dev/serial/by-id/..., /dev/ttyUSB0, a pty path,
socket://host:port and loop:// all work unchanged.

When the port fails (SerialException/OSError on read, or its device path disappears) the reader
closes it, counts an outage, and reopens with jittered exponential backoff between
`backoff_min_s` and `backoff_max_s`. The daemon keeps running meanwhile.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from edge.config.serial import SerialSection
from edge.loadcell.bad_lines import BadLineAlarm
from edge.loadcell.framing import QUERY
from edge.loadcell.lines import LineSplitter
from edge.loadcell.protocol import make_parser
from edge.loadcell.serial_status import SerialHealth, SerialStatus
from edge.model import InfoFrame, WeightFrame

log = logging.getLogger(__name__)

FrameCallback = Callable[[WeightFrame | InfoFrame], None]
LineCallback = Callable[[float, bytes], None]
VANISH_CHECK_S = 0.25  # how often an open device path is checked for existence
READ_CHUNK = 4096  # most bytes taken from the port per read call
POLL_S = 0.01  # idle poll period for transports without a file descriptor


def backoff_delay(attempt: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before reopen attempt `attempt` (0-based): doubling from min_s, capped at max_s, jittered down
    by up to half so that many nodes on one power circuit do not retry in lockstep (never below min_s)."""
    ceiling = min(max_s, min_s * 2.0 ** min(attempt, 62))
    return max(min_s, rng.uniform(ceiling / 2.0, ceiling))


def _descriptor(port: Any) -> int | None:
    """The port's file descriptor for select(), or None when the transport has none."""
    try:
        descriptor = port.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return descriptor if isinstance(descriptor, int) else None


def device_path(port: str) -> str | None:
    """The filesystem path behind `port`, or None for a pyserial URL (socket://, loop://, rfc2217://...)."""
    return None if "://" in port else port


# What a technician should do about the usual reasons a port does not open.
_OPEN_HINTS = {
    errno.ENOENT: "no such device (unplugged? check `ls -l /dev/serial/by-id/`)",
    errno.ENODEV: "no such device (unplugged? check `ls -l /dev/serial/by-id/`)",
    errno.EACCES: "permission denied (add the service user to the 'dialout' group)",
    errno.ECONNREFUSED: "connection refused (is the remote serial server running?)",
}
BUSY_ERRNOS = (errno.EBUSY, errno.EAGAIN)  # pyserial's exclusive lock (flock) is taken by another process


def describe_open_error(exc: BaseException, device: str | None = None) -> str:
    code = getattr(exc, "errno", None)
    if code in BUSY_ERRNOS:
        return describe_holders(device)
    return _OPEN_HINTS.get(code, str(exc)) if isinstance(code, int) else str(exc)


def port_holders(device: str) -> list[tuple[int, list[str]]]:
    """(pid, argv) of the other processes that have `device` open, as far as /proc lets us see
    (another user's descriptors are hidden unless we are root)."""
    try:
        target = os.path.realpath(device)
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    holders = []
    for pid in pids:
        if pid == os.getpid():
            continue
        folder = f"/proc/{pid}/fd"
        try:
            held = any(os.readlink(f"{folder}/{fd}") == target for fd in os.listdir(folder))
            if held:
                with open(f"/proc/{pid}/cmdline", "rb") as file:
                    argv = [part.decode(errors="replace") for part in file.read().split(b"\0") if part]
                holders.append((pid, argv))
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return holders


def _is_daemon(argv: list[str]) -> bool:
    words = [os.path.basename(word) for word in argv]
    return "run" in words and ("shelf-node" in words or "edge" in words)


def daemon_holding(port: str) -> int | None:
    """The pid of a running shelf-node daemon that has `port` open, if /proc shows one."""
    device = device_path(port)
    return next((pid for pid, argv in port_holders(device) if _is_daemon(argv)), None) if device else None


def describe_holders(device: str | None) -> str:
    holders = port_holders(device) if device else []
    for pid, argv in holders:
        if _is_daemon(argv):
            return (f"in use by the running shelf-node daemon (pid {pid}); stop it first "
                    f"(`sudo systemctl stop shelf-node`), or look at its stats over MQTT")
    if holders:
        pid, argv = holders[0]
        return f"in use by process {pid} ({' '.join(argv)[:80]}); stop that program first"
    return ("in use by another process (if it is the shelf-node daemon: `sudo systemctl stop shelf-node`; "
            "`sudo fuser -v` on the device names it)")


class SerialReader:
    """Reads `section.port` in a daemon thread; `on_frame(frame)` for each decoded frame,
    `on_line(t, raw)` for each raw line (capture recording). Both run on the reader thread."""

    def __init__(
        self,
        section: SerialSection,
        on_frame: FrameCallback,
        on_line: LineCallback | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        bad_lines: BadLineAlarm | None = None,
        give_up_when_busy: bool = False,
    ) -> None:
        self.section = section
        # a one-shot tool (serial watch/record) stops at a port another process holds and says so itself;
        # the daemon retries (the holder may be a technician's watch that ends soon)
        self.give_up_when_busy = give_up_when_busy
        self.on_frame = on_frame
        self.on_line = on_line
        self.clock = clock
        self.monotonic = monotonic
        self.health = SerialHealth(section.channels, clock=clock)
        self.parser = make_parser(section, self.health)
        self.splitter = LineSplitter(section.max_line_bytes)
        self._rng = rng or random.Random()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._device = device_path(section.port)
        self._alarm = bad_lines or BadLineAlarm()  # the rate-limited "many bad lines" warning

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> SerialReader:
        if self._thread is not None:
            raise RuntimeError("SerialReader.start() called twice")
        self._thread = threading.Thread(target=self._run, name="serial-reader", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait for it (returns within about one read timeout)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> SerialStatus:
        return self.health.status(self.monotonic())

    def __enter__(self) -> SerialReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            port = self._open(attempt)
            if port is not None:
                try:
                    if self._pump(port):
                        attempt = 0  # it delivered data: the next loss starts from the short delay again
                finally:
                    self._close(port)
            if self._stopping.is_set():
                break
            section = self.section
            self._stopping.wait(backoff_delay(attempt, section.backoff_min_s, section.backoff_max_s, self._rng))
            attempt += 1
        self.health.connected = False

    def _open(self, attempt: int) -> Any:
        import serial  # lazily: only the reader thread needs pyserial

        section = self.section
        # timeout=0: reads never block; _pump waits for data with select() on the port's descriptor
        options: dict[str, Any] = {"baudrate": section.baudrate, "timeout": 0}
        if self._device is not None:
            options["exclusive"] = True  # a second reader on the same device would steal half the bytes
        try:
            port = serial.serial_for_url(section.port, **options)
        except (serial.SerialException, OSError, ValueError) as exc:
            busy = getattr(exc, "errno", None) in BUSY_ERRNOS
            message = f"cannot open {section.port}: {describe_open_error(exc, self._device)}"
            self.health.port_lost(self.monotonic(), message, was_connected=False, busy=busy)
            if busy and self.give_up_when_busy:
                log.debug("%s; giving up (the caller reports it)", message)
                self._stopping.set()
                return None
            (log.warning if attempt == 0 else log.debug)("%s; retrying with backoff", message)
            return None
        self.health.port_opened(self.monotonic())
        log.info("serial port %s open (%d baud, %s protocol)", section.port, section.baudrate, section.protocol)
        return port

    def _pump(self, port: Any) -> bool:
        """Read until stop or port loss. Returns True if any byte arrived."""
        import serial

        received = False
        if self.section.protocol == "framed" and self.section.query_on_open:
            try:
                port.write(QUERY)
                self.parser.expect_info(self.clock())
            except (serial.SerialException, OSError) as exc:
                self._lost(f"write failed: {exc}")
                return received
        descriptor = _descriptor(port)
        wait_s = self.section.read_timeout_s
        next_check = self.monotonic() + VANISH_CHECK_S
        while not self._stopping.is_set():
            try:
                if descriptor is not None:
                    # one wake-up per burst, then everything buffered in one call (pyserial's socket
                    # transport reports in_waiting as 0/1, so `read(in_waiting)` would go byte by byte)
                    ready, _, _ = select.select([descriptor], [], [], wait_s)
                    chunk = port.read(READ_CHUNK) if ready else b""
                else:
                    chunk = port.read(READ_CHUNK)
                    if not chunk:
                        self._stopping.wait(POLL_S)  # loop:// and friends: no descriptor to wait on
            except (serial.SerialException, OSError, ValueError) as exc:
                self._lost(f"read failed: {exc}")
                return received
            if chunk:
                received = True
                self._process(chunk, self.clock())
            if self._device is not None and self.monotonic() >= next_check:
                next_check = self.monotonic() + VANISH_CHECK_S
                if not os.path.exists(self._device):
                    self._lost(f"device {self._device} disappeared")
                    return received
        return received

    def _close(self, port: Any) -> None:
        import serial

        try:
            port.close()
        except (serial.SerialException, OSError) as exc:  # closing a yanked device can fail; it is gone anyway
            log.debug("closing %s failed: %s", self.section.port, exc)

    def _lost(self, reason: str) -> None:
        self.health.port_lost(self.monotonic(), reason, was_connected=True)
        if self.splitter.reset():
            self.health.partial_lines_dropped += 1
        log.warning("serial port %s lost (%s); reconnecting with backoff", self.section.port, reason)

    def _process(self, chunk: bytes, t: float) -> None:
        self.health.bytes_received += len(chunk)
        for raw in self.splitter.feed(chunk):
            if self.on_line is not None:
                self._guarded(self.on_line, t, raw)
            self._guarded(self._decode_and_deliver, raw, t)
        warning = self._alarm.check(self.health, self.monotonic())
        if warning is not None:
            log.warning("serial port %s: %s", self.section.port, warning)

    def _decode_and_deliver(self, raw: bytes, t: float) -> None:
        frame = self.parser.parse(raw, t)
        if frame is not None:
            self.on_frame(frame)

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        """The reader thread must outlive a bug downstream: log it with traceback and count it."""
        try:
            action(*args)
        except Exception:
            self.health.unexpected_errors += 1
            log.exception("unexpected error handling a serial line (the reader keeps running)")
