"""Run the demo: private mosquitto, simulated shelf on a pty, the real daemon, the hub's view.

Everything it starts is stopped on return (Ctrl-C, SIGTERM, --duration, or a failure), and the
work directory keeps the logs, the config, the ground truth and the node's state for a look after.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from edge.config import NodeConfig
from edge.control.client import request_once
from edge.control.protocol import ControlError
from edge.demo.broker import LocalBroker
from edge.demo.screen import DemoView
from edge.demo.setup import add_camera, install_factory_calibration, write_node_config
from edge.hub.watcher import HubWatcher, hub_section
from edge.sim.generate import generate_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document
from edge.sim.pty_shelf import PtyShelf
from edge.sim.scenario import Scenario
from edge.sim.truth import TruthRecord

if TYPE_CHECKING:
    from edge.sim.camera import LiveFrames, MjpegStream, RenderedCamera

SCENARIO_S = 4 * 3600.0  # generated ahead; a demo left running longer ends its scenario quietly
QUIET_MARGIN_S = 3.0  # --duration ends between interactions: this long after one settled, before the next
END_WAIT_S = 30.0  # ... waited for at most this long past the duration


@dataclass
class DemoResult:
    events: int
    matched: int
    invalid: int
    truth_interactions: int
    daemon_exit: int | None


def run_demo(
    workdir: Path, seed: int, duration: float | None, out: TextIO, live: bool, sps: float = 80.0,
    camera: bool = False,
    camera_stream: bool = False,
) -> DemoResult:
    """`camera`: also render the shelf camera live into workdir/frames and give the daemon a [camera] on it
    (and a [detector] when the shared model is there): flagged item events then carry review pictures.
    `camera_stream`: the same camera served as an MJPEG stream on a free loopback port instead (the
    daemon reads it as an IP camera)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    broker = LocalBroker(workdir / "broker")
    shelf: PtyShelf | None = None
    watcher: HubWatcher | None = None
    daemon: subprocess.Popen[bytes] | None = None
    view: DemoView | None = None
    frames: LiveFrames | None = None
    stream: MjpegStream | None = None
    try:
        _say(out, f"starting a private mosquitto in {broker.workdir}")
        broker.start()
        config_path, config = write_node_config(workdir, broker.port)
        layout = ShelfLayout.from_config(config, seed)
        install_factory_calibration(config, layout)
        scenario = generate_scenario(seed, SCENARIO_S, layout)
        _give_planogram(config_path, workdir, scenario)
        _give_mock_gpio(config_path)
        if camera_stream:
            from edge.sim.camera import MjpegStream

            stream = MjpegStream()  # bound now, so that the config can name its URL; it plays once the shelf runs
            config = add_camera(config_path, stream.url)
        elif camera:
            config = add_camera(config_path, workdir / "frames")
        shelf = PtyShelf(scenario, layout, sps=sps, link_path=workdir / "shelf-tty",
                         truth_path=workdir / "truth.jsonl").start()
        _say(out, f"simulated shelf MCU on {shelf.slave_path} (link {shelf.link_path}), {sps:g} SPS, seed {seed}")
        if camera or stream is not None:
            from edge.sim.camera import LiveFrames

            rendered, until = _rendered_camera(shelf, scenario, config)
            if stream is not None:
                stream.start(rendered, until)
                where = f"MJPEG stream {stream.url}"
            else:
                frames = LiveFrames(rendered, workdir / "frames", until).start()
                where = f"frames in {workdir / 'frames'}"
            _say(out, f"simulated camera: {where}, detector "
                      f"{'on' if config.detector is not None else 'off (no model in ../shared/models)'}; "
                      f"review: shelf-node review list --config {config_path}")
        header = (f"shelf-node demo | broker 127.0.0.1:{broker.port} | node {config.node.store_id}/"
                  f"{config.node.node_id} | logs in {workdir} | Ctrl-C to stop")
        view = DemoView(out, live, header)
        watcher = HubWatcher(hub_section(port=broker.port, topic_prefix=config.mqtt.topic_prefix),
                             client_id="shelf-node-demo-hub",
                             on_record=view.on_record, keep_records=False)
        watcher.start()
        log_file = (workdir / "node.log").open("wb")
        control = workdir / "control.sock"
        daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config_path),
                                   "--socket", str(control)], stdout=log_file, stderr=subprocess.STDOUT)
        _say(out, f"daemon started (pid {daemon.pid}): shelf-node run --config {config_path}")
        deadline = None if duration is None else time.monotonic() + duration
        while not stop.is_set() and not (deadline is not None and time.monotonic() >= deadline
                                         and (_quiet(shelf) or time.monotonic() >= deadline + END_WAIT_S)):
            if daemon.poll() is not None:
                _say(out, f"the daemon exited with {daemon.returncode}; last lines of {workdir / 'node.log'}:")
                out.write(_tail(workdir / "node.log"))
                break
            status = _status(control)
            view.show_led(_led_state(status))
            if view.weighing_from is None and _weighing(status):
                view.weighing_from = time.time()  # seen now: it began weighing at most one poll earlier
                deadline = None if duration is None else time.monotonic() + duration  # --duration of weighing
                _say(out, f"the node is weighing; interactions from {time.strftime('%H:%M:%S')} on are scored "
                          f"(the shopper began {view.weighing_from - shelf.start_time:.1f} s earlier, with the shelf)")
            view.update(shelf.truth(), shelf.plate_grams())
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        daemon_exit = _stop_daemon(daemon)
        if frames is not None:
            frames.stop()
        if stream is not None:
            stream.stop()
        if watcher is not None:
            watcher.stop()
        if shelf is not None:
            shelf.stop()
        broker.stop()
    truth = _happened(shelf) if shelf else []
    if view is not None:
        view.flush(truth)
    since = None if view is None else view.weighing_from
    scored = [t for t in truth if t.expect_event and since is not None and t.t_start >= since]
    result = DemoResult(len(view.scored) if view else 0, view.matched if view else 0, view.invalid if view else 0,
                        len(scored), daemon_exit)
    _say(out, f"stopped. hub received {view.received if view else 0} events, {result.events} of changes begun once "
              f"the node was weighing ({result.matched} of those matched to ground truth, {result.invalid} invalid "
              f"in all); the simulator made {result.truth_interactions} real interactions since then "
              f"({sum(1 for t in truth if t.expect_event)} in all); daemon exit status {result.daemon_exit}. "
              f"Files: {workdir}")
    return result


def _give_planogram(config_path: Path, workdir: Path, scenario: Scenario) -> None:
    """The scenario's shelf as the node's planogram file, so fusion names items (as a hub's would)."""
    path = workdir / "planogram.json"
    path.write_text(json.dumps(planogram_document(scenario), indent=1), encoding="utf-8")
    with config_path.open("a", encoding="utf-8") as config:
        config.write(f'\n[fusion]\nplanogram = "{path}"\n')


def _rendered_camera(shelf: PtyShelf, scenario: Scenario, config: NodeConfig) -> tuple[RenderedCamera, float]:
    """The simulator's rendered camera of the live shelf (product photos from ../shared/images, plain packs
    without them) and the wall-clock end of its scenario, played live (each frame at its wall-clock time) as
    `shelf-node sim run --frames DIR` or `--camera-mjpeg HOST:PORT` does."""
    from edge.sim.camera import DEFAULT_IMAGES, camera_for

    truth = [r.shifted(shelf.start_time, shelf.speed) for r in shelf.sim.truth]
    images = DEFAULT_IMAGES if DEFAULT_IMAGES.is_dir() else None
    rendered = camera_for(scenario, truth, config.plates, images, "all")
    return rendered, shelf.start_time + scenario.end_s() / shelf.speed


def _give_mock_gpio(config_path: Path) -> None:
    """A status LED and a button on gpiozero's mock pin factory: the demo shows the LED's state (docs/gpio.md)."""
    with config_path.open("a", encoding="utf-8") as config:
        config.write('\n[gpio]\nstatus_led = 17\nfault_led = 22\nbutton = 27\npin_factory = "mock"\n')


def _status(control: Path) -> dict[str, Any] | None:
    """The daemon's `status` on its control socket, or None before the socket answers."""
    try:
        return request_once("status", path=control, timeout_s=2.0)
    except ControlError:
        return None


def _led_state(status: dict[str, Any] | None) -> str | None:
    """The LED state and its pins as the daemon's `status` says ("running (pins: mock)"), or None."""
    if status is None:
        return None
    gpio = status.get("gpio") or {}
    return f"{gpio.get('led', '?')} (pins: {gpio.get('pins', '?')})"


def _weighing(status: dict[str, Any] | None) -> bool:
    """The node weighs: it measured the sample rate, every plate is past its warm-up and quiet, the shelf is
    stable (so no change is under way that it saw only part of)."""
    weights = ((status or {}).get("parts") or {}).get("weighing") or {}
    plates = (weights.get("plates") or {}).values()
    return (weights.get("samples_per_s") is not None and bool(weights.get("shelf_stable")) and bool(plates)
            and all(plate.get("state") == "quiet" for plate in plates))


def _quiet(shelf: PtyShelf) -> bool:
    """No interaction of the scenario is under way, about to begin, or settled too recently for its event to be
    out: a stop now cuts none short (the daemon would report a half-done one, e.g. a resting hand as a put)."""
    now = (time.time() - shelf.start_time) * shelf.speed  # scenario seconds
    margin = QUIET_MARGIN_S * shelf.speed
    return not any(record.t_start - margin <= now <= record.t_settled + margin for record in shelf.sim.truth)


def _happened(shelf: PtyShelf) -> list[TruthRecord]:
    now = time.time()
    return [record for record in shelf.truth() if record.t_settled <= now]


def _stop_daemon(daemon: subprocess.Popen[bytes] | None) -> int | None:
    if daemon is None:
        return None
    if daemon.poll() is None:
        daemon.terminate()  # SIGTERM: the daemon publishes 'stopped' and exits cleanly
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    return daemon.returncode


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) + "\n"


def _say(out: TextIO, text: str) -> None:
    out.write(f"[demo] {text}\n")
    out.flush()
