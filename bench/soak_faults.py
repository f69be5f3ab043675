"""The soak's faults: the schedule, how each is done to the rig and undone, and which health counter must tell.

One cycle holds every kind once, spread out so that each is over (and the node has recovered) before the next;
the run repeats the cycle. `schedule(duration_s, cycle_s)` scales the cycle for a short run in the suite.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.soak_rig import SoakRig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaultKind:
    name: str
    at: float  # start within the cycle, as a fraction of it
    duration: float  # as a fraction of the cycle (0: instantaneous)
    counter: str | None  # the status path (dotted) that must rise, or None: nothing may (the node must not care)
    what: str
    shown_by: str | None = None  # the path whose change shows the fault first (default: counter); a flag that drops
    per_injection: int = 1  # the counter's rise each injection must cause at least
    quiet: bool = False  # the counters of other faults (QUIET_COUNTERS) must not move meanwhile
    absorbed_by: str | None = None  # this rising while the counter did not: the fault did not bite (nothing failed)


KINDS = (
    FaultKind("garbage", 0.03, 0.0, "parts.serial.errors", "4 KB of random bytes on the serial line"),
    FaultKind("unplug", 0.07, 0.03, "parts.serial.port.outages", "USB cable out (device and link vanish), back in"),
    FaultKind("mcu_reset", 0.14, 0.0, "parts.serial.mcu_resets", "MCU reset with the cable in (1 s silent)"),
    FaultKind("camera_loss", 0.20, 0.08, "parts.vision.dropouts", "the camera gives no frame, then comes back",
              "parts.vision.camera_ok"),
    FaultKind("broker_kill", 0.33, 0.04, "mqtt.reconnects", "mosquitto kill -9, restarted on its port",
              "mqtt.connected"),
    FaultKind("network_cut", 0.42, 0.10, "mqtt.reconnects", "node-broker TCP black-holed (no RST), restored",
              "mqtt.connected"),
    FaultKind("disk_full", 0.58, 0.10, "parts.node.outbox_errors", "state directory's tmpfs filled, then freed",
              absorbed_by="parts.node.events"),
    FaultKind("clock_forward", 0.72, 0.05, "parts.weighing.clock_steps", "daemon's wall clock +1 h, then back (-1 h)",
              per_injection=2, quiet=True),
    FaultKind("clock_back", 0.80, 0.05, "parts.weighing.clock_steps",
              "daemon's wall clock -10 min, then forward again (+10 min)", per_injection=2, quiet=True),
    FaultKind("reload_good", 0.88, 0.0, "planogram.version", "planogram file with a new version + SIGHUP",
              quiet=True),
    FaultKind("reload_bad", 0.93, 0.03, "parts.node.reloads_refused",
              "config file broken + SIGHUP (refused), then restored", quiet=True),
)
BY_NAME = {kind.name: kind for kind in KINDS}
END_MARGIN_S = 10.0  # the last fault is over this long before the run ends


@dataclass(frozen=True)
class Planned:
    kind: str
    at_s: float  # seconds from the soak's start
    duration_s: float


def schedule(duration_s: float, cycle_s: float, min_duration_s: dict[str, float] | None = None) -> list[Planned]:
    """Every kind once per cycle, cycles until `duration_s`; a fault not over END_MARGIN_S before the end is left
    out."""
    floors = min_duration_s or {}
    planned: list[Planned] = []
    start = 0.0
    while start + cycle_s * 0.05 < duration_s:
        for kind in KINDS:
            length = max(kind.duration * cycle_s, floors.get(kind.name, 0.0))
            at = start + kind.at * cycle_s
            if at + length + END_MARGIN_S <= duration_s:
                planned.append(Planned(kind.name, round(at, 1), round(length, 1)))
        start += cycle_s
    return planned


@dataclass
class Injection:
    kind: str
    planned_at_s: float
    started: float = 0.0  # real unix time
    ended: float = 0.0
    before: float | None = None  # the counter's value just before
    detected_after_s: float | None = None  # the first status sample showing it, seconds after the start
    detail: str = ""
    skipped: str | None = None  # why it was not done

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def counter(status: dict[str, Any] | None, path: str) -> float | None:
    value: Any = status
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return float(value) if isinstance(value, int | float) else None  # a flag: 1.0 / 0.0


@dataclass
class FaultInjector:
    """Does each planned fault to the rig in a thread of the soak (`run` blocks until the schedule is done)."""

    rig: SoakRig
    done: list[Injection] = field(default_factory=list)
    clock_shifts: list[tuple[float, float]] = field(default_factory=list)  # (real unix time, offset from then)
    _planogram_version: int = 1

    def __post_init__(self) -> None:
        self.clock_shifts.append((0.0, 0.0))

    def run(self, plan: list[Planned], t0: float, stop: Callable[[], bool], wait: Callable[[float], bool]) -> None:
        for item in plan:
            delay = t0 + item.at_s - time.time()
            if delay > 0 and wait(delay):
                return
            if stop():
                return
            self.inject(item, wait)

    def inject(self, item: Planned, wait: Callable[[float], bool]) -> Injection:
        kind = BY_NAME[item.kind]
        injection = Injection(item.kind, item.at_s)
        status = self.rig.status()
        if kind.counter is not None:
            injection.before = counter(status, kind.shown_by or kind.counter)
        injection.started = time.time()
        begin, end = self._actions(item.kind, injection)
        if injection.skipped is None:
            begin()
            if item.duration_s > 0:
                wait(item.duration_s)
            end()
        injection.ended = time.time()
        log.info("soak: %s %s (%.1f s)%s", item.kind, injection.detail, injection.ended - injection.started,
                 f" SKIPPED: {injection.skipped}" if injection.skipped else "")
        self.done.append(injection)
        return injection

    def _actions(self, name: str, injection: Injection) -> tuple[Callable[[], None], Callable[[], None]]:
        rig = self.rig
        assert rig.shelf is not None and rig.camera is not None and rig.proxy is not None

        def nothing() -> None:
            return None

        if name == "garbage":
            def burst() -> None:
                injection.detail = f"{rig.garbage(4096)} bytes"
            return burst, nothing
        if name == "unplug":
            return rig.shelf.unplug, rig.shelf.replug
        if name == "mcu_reset":
            return lambda: rig.shelf.reset_mcu(1.0) if rig.shelf else None, nothing
        if name == "camera_loss":
            return rig.camera.pause, rig.camera.resume
        if name == "broker_kill":
            return rig.broker.kill, lambda: (rig.broker.start(), None)[1]
        if name == "network_cut":
            return rig.proxy.cut, rig.proxy.restore
        if name == "disk_full":
            if not rig.disk_mounted:
                injection.skipped = rig.disk_problem or "no tmpfs"
                return nothing, nothing

            def fill() -> None:
                injection.detail = f"{rig.fill_disk() / 1e6:.1f} MB of ballast"
            return fill, rig.free_disk
        if name == "clock_forward":
            return lambda: self._shift(3600.0), lambda: self._shift(-3600.0)
        if name == "clock_back":
            return lambda: self._shift(-600.0), lambda: self._shift(600.0)
        if name == "reload_good":
            return self._good_reload, nothing
        if name == "reload_bad":
            def break_config() -> None:
                rig.write_config(rig.good_config + "\n[serial]\nbaudrate = \"fast\"\n")
                rig.daemon_signal(signal.SIGHUP)
            return break_config, lambda: rig.write_config(rig.good_config)
        raise ValueError(f"unknown fault {name!r}")

    def _shift(self, seconds: float) -> None:
        self.rig.clock.jump(seconds)
        self.clock_shifts.append((time.time(), self.rig.clock.offset_s))

    def _good_reload(self) -> None:
        path = self.rig.workdir / "planogram.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        self._planogram_version = int(document.get("version", 1)) + 1
        document["version"] = self._planogram_version
        temporary = path.with_name("planogram.json.new")
        temporary.write_text(json.dumps(document, indent=1), encoding="utf-8")
        temporary.replace(path)
        self.rig.daemon_signal(signal.SIGHUP)

    def offset_at(self, real_t: float) -> float:
        """The daemon's wall-clock offset at real time `real_t`."""
        offset = 0.0
        for since, value in self.clock_shifts:
            if since <= real_t:
                offset = value
        return offset
