"""`shelf-node selftest`'s checks. Each says pass, warn or FAIL, what it saw, and for a failure what to do.
With the daemon running, the checks that need the port or the camera ask the daemon (it holds them);
with it stopped they open the hardware directly."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.config import NodeConfig
from edge.control.client import ControlClient
from edge.control.protocol import ControlError
from edge.errors import CalibrationError, CameraError, ShelfNodeError

MIN_FREE_BYTES = 200_000_000
MIN_FREE_FRACTION = 0.05
MAX_CHECKSUM_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    result: str  # "pass", "warn" or "fail"
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "result": self.result, "detail": self.detail, "fix": self.fix}


def passed(name: str, detail: str) -> Check:
    return Check(name, "pass", detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def check_config_files(config: NodeConfig) -> Check:
    from edge.config.files import check_files

    report = check_files(config)
    if report.problems:
        return failed("config", "; ".join(report.problems), "fix those keys (shelf-node config check FILE lists "
                                                           "them all)")
    notes = f" ({len(report.notes)} notes: shelf-node config check)" if report.notes else ""
    return passed("config", f"valid, {len(report.checked)} files checked{notes}")


def check_serial_port(config: NodeConfig, daemon: ControlClient | None) -> Check:
    port = config.serial.port
    if "://" in port:
        return passed("serial port", f"{port} is a URL (no device to check)")
    if daemon is not None:
        connected = _get(daemon.request("status"), "parts", "serial", "port", "connected")
        return passed("serial port", f"{port}: held by the daemon, {'connected' if connected else 'NOT connected'}")
    path = Path(port)
    if not path.exists():
        return failed("serial port", f"{port} does not exist", "plug the load-cell board in; ls -l /dev/serial/by-id/ "
                                                                "lists the names to put in [serial] port")
    if not os.access(path, os.R_OK | os.W_OK):
        return failed("serial port", f"{port}: this user may not open it",
                      "add the user to group dialout (sudo usermod -aG dialout $USER) or use sudo")
    return passed("serial port", f"{port} exists and this user may open it")


def check_frames(config: NodeConfig, daemon: ControlClient | None, seconds: float) -> Check:
    first: dict[str, Any] = {}
    if daemon is not None:  # the daemon's counters over the same interval
        first = _get(daemon.request("status"), "parts", "serial") or {}
        time.sleep(seconds)
        serial = _get(daemon.request("status"), "parts", "serial") or {}
    else:
        serial = _listen(config, seconds)
    frames = int(serial.get("frames_ok") or 0) - int(first.get("frames_ok") or 0)
    bad = int(serial.get("checksum_errors") or 0) - int(first.get("checksum_errors") or 0)
    if frames <= 0:
        why = _get(serial, "port", "last_error") or "no frame"
        return failed("frames", f"no weight frame in {seconds:g} s ({why})",
                      "check the cable and the board's power; shelf-node serial watch shows the raw lines")
    if bad > MAX_CHECKSUM_SHARE * (frames + bad):
        return failed("frames", f"{frames} frames, {bad} checksum errors in {seconds:g} s",
                      "a noisy line: shorten or shield the USB cable, check [serial] baudrate")
    return passed("frames", f"{frames / seconds:.0f} frames/s, {bad} checksum errors")


def _listen(config: NodeConfig, seconds: float) -> dict[str, Any]:
    from edge.loadcell.reader import SerialReader

    reader = SerialReader(config.serial, lambda frame: None).start()
    try:
        time.sleep(seconds)
    finally:
        reader.stop()
    return reader.status().to_json()


def check_calibration(config: NodeConfig) -> Check:
    from edge.weighing.store import CalibrationStore

    store = CalibrationStore.in_state_dir(config.node.state_dir)
    if not store.path.exists():
        return failed("calibration", f"no calibration at {store.path}: every plate uses the default scale",
                      "shelf-node calibrate PLATE for each plate")
    try:
        store.load(config.serial.channels, config.weighing.counts_per_gram)
    except CalibrationError as exc:
        return failed("calibration", str(exc), "shelf-node calibration show; undo or recalibrate")
    return passed("calibration", f"{store.path} loads")


def check_model(config: NodeConfig) -> Check:
    detector = config.detector
    if detector is None:
        return passed("model", "no [detector] configured")
    if not detector.model.is_file():
        return failed("model", f"{detector.model} is missing", "./scripts/get-model --dest "
                                                              f"{detector.model.parent.parent}")
    from edge.hw.runtime import sha256_of

    digest = sha256_of(detector.model)
    if detector.model_sha256 and digest != detector.model_sha256:
        return failed("model", f"{detector.model}: sha256 {digest[:12]}... is not the configured "
                               f"{detector.model_sha256[:12]}...", "fetch the model again (scripts/get-model)")
    pinned = "matches detector.model_sha256" if detector.model_sha256 else "not pinned (set detector.model_sha256)"
    return Check("model", "pass" if detector.model_sha256 else "warn", f"sha256 {digest[:12]}... {pinned}")


def check_camera(config: NodeConfig, daemon: ControlClient | None) -> Check:
    if config.camera is None:
        return passed("camera", "no [camera] configured")
    if daemon is not None:
        try:
            answer = daemon.request("snapshot")
        except ControlError as exc:
            return failed("camera", f"the daemon could not take a frame: {exc.message}", "shelf-node status shows "
                                                                                          "the camera's error")
        return passed("camera", f"a {answer.get('bytes')} byte frame from the daemon")
    from edge.hw.camera import open_camera

    source = open_camera(config.camera)
    try:
        source.open()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if source.read() is not None:
                return passed("camera", f"a frame from {source.description}")
            time.sleep(0.05)
    except CameraError as exc:
        return failed("camera", str(exc), "check [camera] source and the camera's cable")
    finally:
        source.close()
    return failed("camera", f"no frame from {source.description} in 5 s",
                  source.why_silent() or "check the camera's cable and [camera] source")


def check_broker(config: NodeConfig) -> Check:
    from edge.cli.mqtt_check import check_broker as steps_of

    steps = steps_of(config, timeout_s=5)
    last = steps[-1]
    if last.ok:
        return passed("broker", f"{config.mqtt.host}:{config.mqtt.port}: {last.detail}")
    return failed("broker", f"{last.name}: {last.detail}", last.fix or "shelf-node mqtt check")


def check_disk(config: NodeConfig) -> Check:
    try:
        usage = shutil.disk_usage(config.node.state_dir)
    except OSError as exc:
        return failed("disk", f"{config.node.state_dir}: {exc.strerror or exc}", "fix node.state_dir")
    free_mb = usage.free / 1e6
    if usage.free < MIN_FREE_BYTES or usage.free < MIN_FREE_FRACTION * usage.total:
        return failed("disk", f"{free_mb:.0f} MB free of {usage.total / 1e9:.1f} GB at {config.node.state_dir}",
                      "free space: old snapshots, journal (journalctl --vacuum-size=100M), captures")
    return passed("disk", f"{free_mb:.0f} MB free at {config.node.state_dir}")


def check_clock(run: Callable[[list[str]], str | None] | None = None) -> Check:
    run = run or _command
    answer = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if answer is None:
        if Path("/run/systemd/timesync/synchronized").exists():
            return passed("clock", "synchronized (systemd-timesyncd)")
        return Check("clock", "warn", "cannot tell whether the clock is synchronized (no timedatectl)",
                     "event times need a synced clock: install systemd-timesyncd or chrony")
    if answer.strip() == "yes":
        return passed("clock", "synchronized (NTP)")
    return failed("clock", "the clock is not synchronized: event times may be wrong",
                  "check NTP: timedatectl timesync-status; the hub's address must be reachable on UDP 123")


def check_gpio(config: NodeConfig, daemon: ControlClient | None) -> Check:
    if config.gpio is None:
        return passed("gpio", "no [gpio] configured")
    if daemon is not None:
        gpio = _get(daemon.request("status"), "gpio") or {}
        if gpio.get("pins") in ("ok", "mock"):
            return passed("gpio", f"the daemon drives the LED ({gpio.get('led')})")
        return failed("gpio", f"the daemon has no GPIO: {gpio.get('problem') or 'not wired'}", "see the problem")
    from edge.hw.gpio import GpioPins, GpioUnavailable

    try:
        pins = GpioPins.open(config.gpio, lambda: None, lambda: None)
    except GpioUnavailable as exc:
        return failed("gpio", str(exc), "the node runs without LED and button until this is fixed")
    pins.set_led(True)
    time.sleep(0.3)
    pins.set_led(False)
    pins.close()
    return passed("gpio", f"pin {config.gpio.status_led} opened (the LED flashed once)")


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _command(args: list[str]) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check that raises a deliberate error fails with its message instead of ending the selftest."""
    try:
        return check()
    except (ShelfNodeError, OSError) as exc:
        return failed(name, str(exc), "see the message")
