"""The whole node as a store runs it, for the latency and resource benchmarks: a private mosquitto, the
simulated shelf on a pty, the real daemon (`python -m edge run`, its own process) and a hub subscriber.

    with LiveRig(workdir, sps=80, timing=True) as rig:   # starts everything, waits for a warmed-up weigher
        truth = rig.shelf.pick("p2")
        rig.hub.wait_for(lambda m: m["kind"] == "item", 10)
    # every process it started is stopped, the broker too

The shelf records when it wrote each weight line (CLOCK_MONOTONIC, by the frame's seq) and the hub when it
received each event, on the clock the daemon's `edge.timing` stamps use (edge/node/timing.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from edge.config import NodeConfig
from edge.control.client import request_once
from edge.control.protocol import ControlError
from edge.demo.broker import LocalBroker
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.mqtt.topics import Topics
from edge.sim.camera import LiveFrames, camera_for
from edge.sim.camera.view import ShelfView
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from edge.sim.pty_shelf import PtyShelf
from edge.sim.scenario import Scenario

READY_TIMEOUT_S = 60.0
QUIET_SCENARIO_S = 4 * 3600.0


class RigError(RuntimeError):
    """The rig could not be brought up (broker, daemon, warm-up); the message says which part and where its log is."""


class StampingShelf(PtyShelf):
    """The pty shelf, also noting when each weight line left it (monotonic), by the line's frame seq."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.written: dict[int, float] = {}  # frame seq -> monotonic time the write returned
        self.write_log: list[tuple[float, int]] = []  # (monotonic, seq) in order

    def _send(self, raw: bytes) -> None:
        super()._send(raw)
        if raw.startswith(b"$W,"):
            now = time.monotonic()
            seq = int(raw.split(b",", 2)[1])
            self.written[seq] = now
            self.write_log.append((now, seq))

    def monotonic_of(self, wall: float) -> float:
        """A truth record's unix time on the monotonic clock the lines are paced by."""
        return self._start_monotonic + (wall - self.start_time) * self.speed


class HubClock:
    """A hub subscriber on the node's events topic, noting the monotonic time each event arrived."""

    def __init__(self, port: int, topic: str) -> None:
        self.topic = topic
        self.received: list[tuple[float, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-hub-{os.getpid()}")
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            self.stop()
            raise RigError(f"hub subscriber: no SUBACK for {topic} from 127.0.0.1:{port} within 10 s")

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        now = time.monotonic()
        with self._cond:
            self.received.append((now, json.loads(message.payload)))
            self._cond.notify_all()

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float, start: int = 0) -> int | None:
        """Index of the first event from `start` on that matches, waiting up to `timeout`; None if none came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index in range(start, len(self.received)):
                    if match(self.received[index][1]):
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LiveRig:
    def __init__(self, workdir: Path, sps: float = 80.0, seed: int = 16, timing: bool = False,
                 prelude: str | None = None, actions: Callable[[Scenario], Scenario] | None = None,
                 model: Path | None = None, images: Path | None = None) -> None:
        """`prelude`: Python run in the daemon's process before `python -m edge` (a benchmark's baseline).
        `actions`: gives the scenario its actions (default: none, a quiet shelf that `shelf.pick` plays on).
        `model`: a detector model directory (detect.tflite, coco_labels.txt): the node gets a `[camera]` reading
        the rendered camera's live frames (edge.sim.camera.LiveFrames, product photos from `images`, plain
        packs when None) and that `[detector]`."""
        self.workdir = workdir
        self.sps = sps
        self.seed = seed
        self.timing = timing
        self.prelude = prelude
        self.actions = actions
        self.model = model
        self.images = images
        self.frames = workdir / "frames"
        self.camera: LiveFrames | None = None
        self.broker = LocalBroker(workdir / "broker")
        self.log_path = workdir / "node.log"
        self.socket = workdir / "control.sock"
        self.shelf: StampingShelf | None = None
        self.hub: HubClock | None = None
        self.daemon: subprocess.Popen[bytes] | None = None
        self.config: NodeConfig | None = None
        self.layout: ShelfLayout | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> LiveRig:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        config_path, config = self._write_config()
        self.config = config
        self.layout = layout = ShelfLayout.from_config(config, self.seed)
        install_factory_calibration(config, layout)
        quiet = generate_scenario(self.seed, QUIET_SCENARIO_S, layout)
        quiet = quiet.model_copy(update={"actions": [], "duration_s": QUIET_SCENARIO_S})
        scenario = self.actions(quiet) if self.actions is not None else quiet
        planogram = self.workdir / "planogram.json"
        planogram.write_text(json.dumps(planogram_document(scenario), indent=1), encoding="utf-8")
        with config_path.open("a", encoding="utf-8") as file:
            file.write(f'\n[fusion]\nplanogram = "{planogram}"\n')
        self.shelf = StampingShelf(scenario, layout, sps=self.sps, link_path=self.workdir / "shelf-tty")
        self.shelf.start()
        if self.model is not None:
            self._start_camera(scenario, config)
        topics = Topics(config.mqtt.topic_prefix, config.node.store_id, config.node.node_id)
        self.hub = HubClock(self.broker.port, topics.events)
        levels = ["--log-levels", "edge.timing=debug"] if self.timing else []
        entry = (["-c", f"{self.prelude}\nimport runpy; runpy.run_module('edge', run_name='__main__')"]
                 if self.prelude else ["-m", "edge"])
        with self.log_path.open("wb") as log:
            self.daemon = subprocess.Popen(
                [sys.executable, *entry, *levels, "run", "--config", str(config_path), "--socket",
                 str(self.socket)], stdout=log, stderr=subprocess.STDOUT)
        if not _wait(self._weighing_ready, READY_TIMEOUT_S, self.daemon):
            raise RigError(f"the daemon's weigher did not warm up within {READY_TIMEOUT_S:.0f} s "
                           f"(exit status {self.daemon.poll()}); see {self.log_path}")

    def stop(self) -> None:
        """Stop everything started (again: a no-op). The shelf's and the hub's records stay readable."""
        if self._stopped:
            return
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        if self.camera is not None:
            self.camera.stop()
        if self.hub is not None:
            self.hub.stop()
        if self.shelf is not None:
            self.shelf.stop()
        self.broker.stop()
        self._stopped = True

    # -- parts -------------------------------------------------------------------------------------
    def _write_config(self) -> tuple[Path, NodeConfig]:
        from edge.config import load_config

        path, _ = write_node_config(self.workdir, self.broker.port)
        text = path.read_text(encoding="utf-8")
        # live weights are off by default in the product; the sim template turns them on for the demo's view
        text = re.sub(r"(?m)^weights_enabled = true.*$", "weights_enabled = false", text)
        if self.model is not None:
            text = self._with_camera(text)
        path.write_text(text, encoding="utf-8")
        return path, load_config(path)

    def _with_camera(self, text: str) -> str:
        """Each plate's roi in the rendered camera's default view, the frame directory and the detector."""
        assert self.model is not None
        names = re.findall(r'(?m)^name = "(p\d+)"$', text)
        for area in ShelfView.grid(names).plates:
            roi = [list(xy) for xy in area.roi()]
            text = text.replace(f'name = "{area.name}"\n', f'name = "{area.name}"\nroi = {roi}\n', 1)
        return text + (f'\n[camera]\nsource = "{self.frames}"\n'
                       f'\n[detector]\nmodel = "{self.model / "detect.tflite"}"\n'
                       f'labels = "{self.model / "coco_labels.txt"}"\n')

    def _start_camera(self, scenario: Scenario, config: NodeConfig) -> None:
        """The rendered camera of the scenario, frames written live on the shelf's wall clock."""
        assert self.shelf is not None
        shelf = self.shelf
        truth = [r.shifted(shelf.start_time, shelf.speed) for r in shelf.sim.truth]
        camera = camera_for(scenario, truth, list(config.plates), images=self.images)
        self.camera = LiveFrames(camera, self.frames, shelf.start_time + scenario.end_s() / shelf.speed).start()

    def _weighing_ready(self) -> bool:
        """The daemon's weigher has measured the sample rate and every plate is quiet (control socket status)."""
        try:
            status = request_once("status", path=self.socket, timeout_s=5.0)
        except ControlError:
            return False
        weighing = (status.get("parts") or {}).get("weighing") or {}
        plates = (weighing.get("plates") or {}).values()
        return (weighing.get("samples_per_s") is not None and bool(weighing.get("shelf_stable")) and bool(plates)
                and all(plate.get("state") == "quiet" for plate in plates))

    def wait_quiet(self, timeout: float = 15.0) -> bool:
        """Every plate quiet again (between interactions)."""
        return _wait(self._weighing_ready, timeout, self.daemon)

    @property
    def pid(self) -> int:
        if self.daemon is None:
            raise RigError("the daemon is not running")
        return self.daemon.pid

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def _wait(condition: Callable[[], bool], timeout: float, daemon: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon is not None and daemon.poll() is not None:
            return False
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def timing_stamps(log_text: str) -> list[dict[str, Any]]:
    """The daemon's `timing {json}` lines (edge/node/timing.py), in log order."""
    stamps = []
    for line in log_text.splitlines():
        at = line.find("timing {")
        if at >= 0:
            stamps.append(json.loads(line[at + len("timing "):]))
    return stamps
