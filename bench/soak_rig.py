"""The soak's rig: everything around the real daemon, each part a fault can be injected into.

    rig = SoakRig(workdir, settings).start()   # broker, proxy, tmpfs, shelf, camera, daemon, hub
    rig.shelf.unplug(); rig.broker.kill(); rig.proxy.cut(); rig.clock.jump(3600); rig.daemon_signal(SIGHUP)
    rig.status()                               # the daemon's control-socket `status`
    rig.stop()                                 # everything it started, whatever state it is in

The daemon is `python -m edge run` as systemd runs it, its wall clock shifted by `bench/wallclock.py`,
connected to mosquitto through `bench/tcp_proxy.py`, its state directory on a small real tmpfs (when this
process may mount one: root), fed by the simulator on a pty and a rendered camera writing frames.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bench.tcp_proxy import CuttableProxy
from bench.wallclock import WallClockShift
from edge.control.client import request_once
from edge.control.protocol import ControlError
from edge.demo.broker import LocalBroker
from edge.demo.setup import install_factory_calibration, write_node_config
from edge.hub.watcher import HubWatcher, hub_section
from edge.sim.camera import camera_for
from edge.sim.camera.output import write_frame
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from edge.sim.pty_shelf import PtyShelf

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = Path(os.environ.get("SHELF_NODE_SHARED", REPO.parent / "shared")) / "models" / \
    "coco_ssd_mobilenet_v1_1.0_quant"
DISK_MB = 24  # the state directory's tmpfs: outbox, calibration, planogram, snapshots (capped below)


@dataclass(frozen=True)
class RigSettings:
    seed: int
    scenario_s: float  # the shelf's scenario length (the run plus a margin)
    sps: float = 80.0
    detector: bool = False  # the real SSD model on the frames (needs ../shared/models)
    keepalive_s: int = 5  # MQTT keepalive: a network cut is noticed after 1.5 x this
    camera_dropout_s: float = 3.0


class CameraFeed:
    """The rendered camera writing `<unix ms>.jpg` frames when the real clock reaches them; `pause()` is a
    camera lost (no frame at all), `resume()` brings it back. Keeps the newest `keep` frames."""

    def __init__(self, camera: RenderedCamera, directory: Path, until: float, keep: int = 300) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.camera, self.directory, self.until, self.keep = camera, directory, until, keep
        self.frames_written = self.frames_withheld = self.frames_late = 0
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._written: deque[Path] = deque()
        self._thread = threading.Thread(target=self._run, name="soak-camera", daemon=True)

    def start(self) -> CameraFeed:
        self._thread.start()
        return self

    def pause(self) -> None:
        self.paused.set()

    def resume(self) -> None:
        self.paused.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        for ms in self.camera.frame_times(time.time(), self.until):
            wait = ms / 1000 - time.time()
            if (wait > 0 and self._stop.wait(wait)) or self._stop.is_set():
                return
            if self.paused.is_set():
                self.frames_withheld += 1
                continue
            if time.time() - ms / 1000 > 0.5:
                self.frames_late += 1
                continue
            self._written.append(write_frame(self.directory, ms, self.camera.jpeg(ms)))
            self.frames_written += 1
            while len(self._written) > self.keep:
                self._written.popleft().unlink(missing_ok=True)


class SoakRig:
    def __init__(self, workdir: Path, settings: RigSettings) -> None:
        self.workdir = workdir
        self.settings = settings
        self.broker = LocalBroker(workdir / "broker")
        self.proxy: CuttableProxy | None = None
        self.clock = WallClockShift(workdir / "clock")
        self.disk = workdir / "disk"
        self.disk_mounted = False
        self.disk_problem: str | None = None
        self.shelf: PtyShelf | None = None
        self.camera: CameraFeed | None = None
        self.hub: HubWatcher | None = None
        self.daemon: subprocess.Popen[bytes] | None = None
        self.daemon_exit: int | None = None
        self.config_path = workdir / "node.toml"
        self.good_config = ""
        self.socket = workdir / "control.sock"
        self.log_path = workdir / "node.log"
        self._log_file: BinaryIO | None = None

    # ------------------------------------------------------------------ start
    def start(self) -> SoakRig:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        self.clock = WallClockShift(self.workdir / "clock")
        self.broker.start()
        self.proxy = CuttableProxy(self.broker.port).start()
        self._mount_disk()
        _, config = write_node_config(self.workdir, self.proxy.port)
        state = self.disk / "state"
        text = self.config_path.read_text(encoding="utf-8")
        text = text.replace(f'state_dir = "{self.workdir / "state"}"', f'state_dir = "{state}"')
        text = text.replace("stats_interval_s = 10", "stats_interval_s = 5")
        text = text.replace("[mqtt]\n", f"[mqtt]\nkeepalive_s = {self.settings.keepalive_s}\nreconnect_max_s = 5\n")
        self.config_path.write_text(text, encoding="utf-8")
        from edge.config import load_config

        config = load_config(self.config_path)
        layout = ShelfLayout.from_config(config, seed=self.settings.seed)
        install_factory_calibration(config, layout)
        scenario = generate_scenario(self.settings.seed, self.settings.scenario_s, layout)
        planogram = self.workdir / "planogram.json"
        planogram.write_text(json.dumps(planogram_document(scenario), indent=1), encoding="utf-8")
        frames = self.workdir / "frames"
        text += f'\n[fusion]\nplanogram = "{planogram}"\n'
        text += (f'\n[camera]\nsource = "{frames}"\nidle_fps = 1\nactive_fps = 5\n'
                 f"dropout_s = {self.settings.camera_dropout_s}\nretry_max_s = 2\n"
                 "snapshot_max_bytes = 3000000\nsnapshot_max_count = 100\n")
        if self.settings.detector:
            if not (MODEL_DIR / "detect.tflite").is_file():
                raise RuntimeError(f"--detector needs the model at {MODEL_DIR} (set SHELF_NODE_SHARED)")
            text += (f'\n[detector]\nmodel = "{MODEL_DIR / "detect.tflite"}"\n'
                     f'labels = "{MODEL_DIR / "coco_labels.txt"}"\n')
        self.config_path.write_text(text, encoding="utf-8")
        self.good_config = text
        self.shelf = PtyShelf(scenario, layout, sps=self.settings.sps, link_path=self.workdir / "shelf-tty",
                              truth_path=self.workdir / "truth.jsonl").start()
        truth = [r.shifted(self.shelf.start_time, self.shelf.speed) for r in self.shelf.sim.truth]
        camera = camera_for(scenario, truth, list(config.plates), images=None, active_fps=5.0, idle_fps=1.0)
        self.camera = CameraFeed(camera, frames, self.shelf.start_time + self.settings.scenario_s).start()
        self.hub = HubWatcher(hub_section(port=self.broker.port, topic_prefix=config.mqtt.topic_prefix),
                              client_id="soak-hub")
        self.hub.start()
        self.start_daemon()
        return self

    def start_daemon(self) -> None:
        self._log_file = self.log_path.open("ab")
        env = {**os.environ, **self.clock.env(), "PYTHONUNBUFFERED": "1"}
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(self.config_path), "--socket", str(self.socket)],
            stdout=self._log_file, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)

    def _mount_disk(self) -> None:
        self.disk.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(self.disk)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            self.disk_mounted = True
        else:
            self.disk_problem = (f"no tmpfs for the state directory ('mount -t tmpfs' needs root and a sandbox "
                                 f"that allows it: {done.stderr.strip() or done.returncode}); disk-full not injected")

    # ------------------------------------------------------------------ faults' handles
    def fill_disk(self) -> int:
        """Take every free byte of the state directory's tmpfs; the bytes taken."""
        ballast = self.disk / "ballast"
        written = 0
        with ballast.open("wb", buffering=0) as handle:
            try:
                while True:
                    written += handle.write(b"\0" * 65536)
            except OSError:
                pass
        return written

    def free_disk(self) -> None:
        (self.disk / "ballast").unlink(missing_ok=True)

    def garbage(self, size: int) -> int:
        assert self.shelf is not None
        rng = random.Random(size)
        data = bytes(rng.choice(b"\x00\xff\x7e$*,0123456789ABCDEF\r\x1b") for _ in range(size)) + b"\n"
        return self.shelf.send_garbage(data)

    def daemon_signal(self, sig: int) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(sig)

    def write_config(self, text: str) -> None:
        temporary = self.config_path.with_name("node.toml.new")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.config_path)

    def status(self, timeout_s: float = 3.0) -> dict[str, object] | None:
        try:
            return request_once("status", path=self.socket, timeout_s=timeout_s)
        except (ControlError, OSError, ValueError):
            return None

    # ------------------------------------------------------------------ stop
    def stop_daemon(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM as systemd does; kill -9 after `timeout_s`. The exit code (negative: killed)."""
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.error("the daemon did not stop within %.0f s of SIGTERM; killing it", timeout_s)
                self.daemon.kill()
                self.daemon.wait()
        self.daemon_exit = self.daemon.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.daemon_exit

    def stop(self) -> None:
        self.stop_daemon()
        for part in (self.hub, self.camera, self.shelf, self.proxy):
            if part is not None:
                part.stop()
        self.broker.stop()
        if self.disk_mounted:
            subprocess.run(["umount", "-l", str(self.disk)], check=False, capture_output=True)
            self.disk_mounted = False
