"""A simulated shelf MCU on a pseudo-terminal: what the node's serial reader sees from hardware.

    shelf = PtyShelf(scenario, link_path="/tmp/shelf-tty")
    shelf.start()              # opens the pty, plays the scenario in real time (x speed)
    ...open shelf.link_path (or shelf.slave_path) with pyserial...
    shelf.unplug(); shelf.replug()   # USB pull: the device vanishes, comes back, MCU reboots
    shelf.reset_mcu(); shelf.send_garbage(b"...")   # a reset with the cable in; noise on the line
    shelf.pick("p1")           # interactive demo: a pick starting now
    shelf.stop()

Uses only os/pty/termios (no pyserial): the simulator is the *device* side.
"""

from __future__ import annotations

import logging
import os
import pty
import select
import threading
import time
import tty
from collections import deque
from pathlib import Path
from typing import IO, Literal

import numpy as np

from edge.loadcell.framing import QUERY
from edge.sim.engine import Simulation
from edge.sim.layout import ShelfLayout
from edge.sim.mcu import Line, Protocol
from edge.sim.render import Block
from edge.sim.scenario import Action, Scenario
from edge.sim.truth import TruthRecord, write_truth

log = logging.getLogger(__name__)
LIVE_BLOCK_S = 0.25  # rendered ahead of real time; an injected action starts at most this late


class PtyShelf:
    def __init__(
        self,
        scenario: Scenario,
        layout: ShelfLayout,
        sps: float = 80.0,
        protocol: Protocol = "framed",
        speed: float = 1.0,
        link_path: str | Path | None = None,
        truth_path: str | Path | None = None,
        plain_units: Literal["counts", "grams"] = "counts",
        endless: bool = False,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.sim = Simulation(scenario, layout, sps, protocol, plain_units, block_s=LIVE_BLOCK_S)
        self.speed = speed
        self.link_path = Path(link_path) if link_path else None
        self.endless = endless
        self.slave_path: str | None = None
        self.start_time = 0.0  # unix time of scenario second 0
        self._start_monotonic = 0.0  # pacing uses the monotonic clock (immune to NTP steps)
        self.lines_sent = 0
        self.lines_lost = 0  # written while unplugged, or the host did not read fast enough
        self.queries_answered = 0
        self._truth_path = Path(truth_path) if truth_path else None
        self._truth_file: IO[str] | None = None
        self._truth_done: set[int] = set()
        self._busy_until: dict[str, float] = {}  # plate -> when its last injected action settles
        self._truth: list[TruthRecord] = []
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: deque[Line] = deque()
        self._block: Block | None = None  # the block the lines being sent come from
        self._last_sent_t = 0.0  # scenario time of the last line handed to the pty
        self._inbox = b""
        self.finished = threading.Event()
        self.error: str | None = None  # why the playing thread ended early, if it did

    # ------------------------------------------------------------ lifecycle
    def start(self) -> PtyShelf:
        if self._truth_path:
            self._truth_file = self._truth_path.open("w", encoding="utf-8", newline="\n")
        try:
            self._open_pty()
        except OSError:
            if self._truth_file:
                self._truth_file.close()
            raise
        self.start_time = time.time()
        self._start_monotonic = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="pty-shelf", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5.0)
        with self._lock:
            self._close_pty()
            if self._truth_file:
                self._truth_file.close()
                self._truth_file = None

    def request_stop(self) -> None:
        """Ask the playing thread to end (signal-handler safe); `stop()` then cleans up."""
        self._stop.set()

    def __enter__(self) -> PtyShelf:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """USB cable pulled: the device node and its by-id link disappear; the shelf keeps going."""
        with self._lock:
            self._close_pty()

    def replug(self) -> None:
        """Cable back in: a new tty appears, the link points at it, the MCU boots (info frame, seq 0)."""
        with self._lock:
            if self._master is None:
                self._open_pty()
                sample = self.sim.renderer.next_sample
                self.sim.encoder.reboot_now(sample, max(1, round(0.3 * self.sim.sps)))
                self._pending.clear()

    def reset_mcu(self, boot_s: float = 1.0) -> None:
        """The MCU resets (brown-out, watchdog) with the cable in: silent for `boot_s`, then its info frame and
        seq 0. The lines already rendered ahead are not sent, as a reset cuts them."""
        with self._lock:
            sample = self.sim.renderer.next_sample
            self.sim.encoder.reboot_now(sample, max(1, round(boot_s * self.sim.sps)))
            self._pending.clear()

    def send_garbage(self, data: bytes) -> int:
        """Raw bytes on the line now (EMI, a wrong baud rate, a boot loader's chatter): `data` as given, between
        two lines. Returns the bytes the pty took (0 while unplugged)."""
        with self._lock:
            if self._master is None:
                return 0
            try:
                return os.write(self._master, data)
            except BlockingIOError:
                return 0

    # ------------------------------------------------------------ interactive
    def pick(self, plate: str, sku: str | None = None, count: int = 1) -> TruthRecord:
        return self._inject(kind="pick", plate=plate, sku=sku, count=count)

    def put(self, plate: str, sku: str | None = None, count: int = 1) -> TruthRecord:
        return self._inject(kind="put", plate=plate, sku=sku, count=count)

    def _inject(self, plate: str, **fields: object) -> TruthRecord:
        """Schedule an action as soon as possible: not in rendered samples, not on a plate still moving."""
        with self._lock:
            at = max(self.sim.renderer.rendered_until, self.now_s(), self._busy_until.get(plate, 0.0)) + 0.01
            resolved = self.sim.resolver.add(Action.model_validate({"at": at, "plate": plate, **fields}))
            self._busy_until[plate] = resolved.truth.t_settled
            return resolved.truth.shifted(self.start_time, self.speed)

    # ------------------------------------------------------------ observation
    def now_s(self) -> float:
        """Scenario seconds now (wall time scaled by speed)."""
        return (time.monotonic() - self._start_monotonic) * self.speed if self.start_time else 0.0

    def truth(self) -> list[TruthRecord]:
        """Actions that have started so far, in wall-clock unix time (start + scenario s / speed)."""
        with self._lock:
            return list(self._truth)

    def plate_grams(self) -> dict[str, float]:
        """True load per plate (grams, no noise or drift) at the last sample sent (empty before the first)."""
        with self._lock:
            block = self._block
            if block is None:
                return {}
            row = int(np.clip(np.searchsorted(block.t, self._last_sent_t, side="right") - 1, 0, len(block.t) - 1))
            return self.sim.plate_grams(block.physical[row])

    @property
    def connected(self) -> bool:
        return self._master is not None

    # ------------------------------------------------------------ internals
    def _open_pty(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no newline translation: bytes pass as a USB CDC device would
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        if self.link_path:
            temporary = self.link_path.with_name(self.link_path.name + ".new")
            try:
                temporary.unlink(missing_ok=True)
                temporary.symlink_to(self.slave_path)
                temporary.replace(self.link_path)  # atomic re-point, as udev does
            except OSError:
                os.close(master)
                os.close(slave)
                self._master = self._slave = None
                raise

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self.link_path:
            self.link_path.unlink(missing_ok=True)

    def _run(self) -> None:
        end_s = self.sim.scenario.end_s()
        clean = False
        try:
            while not self._stop.is_set():
                with self._lock:
                    if not self._pending:
                        if self.sim.renderer.rendered_until >= end_s and not self.endless:
                            break
                        block, lines = self.sim.step()
                        self._pending.extend(lines)
                        self._block = block
                        self._publish_truth()
                    if not self._pending:
                        continue
                    t_line, raw = self._pending[0]
                wait = self._start_monotonic + t_line / self.speed - time.monotonic()
                self._serve_queries(max(0.0, wait))
                with self._lock:
                    if self._pending:
                        self._pending.popleft()
                        self._send(raw)
                        self._last_sent_t = t_line
            clean = True
        except OSError as exc:
            self.error = f"simulated shelf stopped on an I/O error: {exc}"
            log.exception("simulated shelf stopped on an I/O error")
        finally:
            if not clean and self.error is None:  # a bug: threading.excepthook logs the traceback
                self.error = "simulated shelf stopped on an unexpected error (traceback in the log)"
            self.finished.set()

    def _publish_truth(self) -> None:
        """Write the actions that have begun by the end of the block just rendered, in time order."""
        horizon = self.sim.renderer.rendered_until
        started = [r for r in self.sim.truth if r.t_start < horizon and r.id not in self._truth_done]
        for record in sorted(started, key=lambda r: r.t_start):
            self._truth_done.add(record.id)
            shifted = record.shifted(self.start_time, self.speed)
            self._truth.append(shifted)
            if self._truth_file:
                write_truth(self._truth_file, shifted)
                self._truth_file.flush()

    def _serve_queries(self, timeout: float) -> None:
        """Wait up to `timeout` for host bytes; answer `$Q` with the info frame."""
        deadline = time.monotonic() + timeout
        while True:
            master = self._master
            remaining = deadline - time.monotonic()
            if master is None:
                if remaining > 0:
                    self._stop.wait(remaining)
                return
            try:
                readable, _, _ = select.select([master], [], [], max(0.0, min(remaining, 0.05)))
                data = os.read(master, 1024) if readable else b""
            except OSError:  # unplugged under us (fd closed by unplug)
                data = b""
            if data:
                self._inbox = (self._inbox + data)[-4096:]
                while b"\n" in self._inbox:
                    line, _, self._inbox = self._inbox.partition(b"\n")
                    if line.rstrip(b"\r") + b"\n" == QUERY and self.sim.encoder.protocol == "framed":
                        with self._lock:
                            self._send(self.sim.encoder.info_line())
                            self.queries_answered += 1
            if remaining <= 0 or self._stop.is_set():
                return

    def _send(self, raw: bytes) -> None:
        if self._master is None:
            self.lines_lost += 1
            return
        try:
            written = os.write(self._master, raw)
        except BlockingIOError:  # host not reading: the USB buffer overflows, the line is lost
            self.lines_lost += 1
            return
        if written < len(raw):  # buffer full mid-line: the host gets a cut line, as from real hardware
            self.lines_lost += 1
        else:
            self.lines_sent += 1
