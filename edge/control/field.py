"""`FieldServices`: what issue 14 adds to a running node, in one object the node starts and stops with
itself: the control socket, the status LED and button, maintenance mode, the recent-events ring, and the
health verdict from error rates. The node hands it a `NodeSource` (callables onto its parts) and feeds it
two things: each event it produces (`recent.add`) and `maintenance.on` when it labels a weight change."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edge.config.gpio import GpioSection
from edge.control.health import DEFAULT_RULES, ErrorRates, OutboxHealth, RateRule
from edge.control.node_handlers import NodeParts, Registers, node_handlers
from edge.control.protocol import ControlError
from edge.control.report import Health, RecentEvents, Record
from edge.control.server import ControlServer
from edge.gpio.maintenance import MaintenanceMode
from edge.gpio.panel_thread import StatusPanel
from edge.gpio.patterns import NodeCondition
from edge.loadcell.sniff import LineJudge

log = logging.getLogger(__name__)

STALL_S = 60.0  # no weight frame this long with the port open: restart (a USB reset often revives the board)
OBSERVE_EVERY_S = 1.0  # error counters sampled at most this often
CONDITION_EVERY_S = 0.25  # the LED thread ticks at 50 Hz; the node's status is read at most 4 times a second


class Tarer(Protocol):
    """What the button's long press needs (edge.weighing.Weigher)."""

    def tare(self, plate: str | None = None) -> dict[str, float]: ...
    def shelf_stable(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class NodeSource:
    node: str
    version: str
    parts: Callable[[], Record]  # Node.status
    scale: Tarer
    mqtt_connected: Callable[[], bool]
    queued_events: Callable[[], int]  # outbox depth
    booting: Callable[[], bool]  # no weight frame processed yet
    failed: Callable[[], str | None]  # Node.failed, or why the node was not provisioned
    errors: Callable[[], Mapping[str, int]]  # cumulative error counters per part (edge.control.health)
    stalled: Callable[[], str | None] = lambda: None  # why the weight stream stopped with its port open
    mqtt: Callable[[], Record] | None = None
    outbox: Callable[[], Record] | None = None
    host: Callable[[], Record] | None = None
    planogram: Callable[[], dict[str, Any] | None] | None = None
    reload: Callable[[], Record] | None = None  # Node.reload
    serial_lines: Callable[[int, int], dict[str, Any]] | None = None  # (after, limit): judged raw serial lines


class _ButtonActions:
    def __init__(self, services: FieldServices) -> None:
        self.services = services

    def toggle_maintenance(self) -> bool:
        return self.services.maintenance.toggle(by="button")

    def shelf_stable(self) -> bool:
        return self.services.source.scale.shelf_stable()

    def tare(self) -> None:
        self.services.source.scale.tare(None)


class FieldServices:
    def __init__(self, source: NodeSource, gpio: GpioSection | None, socket_path: Path | None,
                 commands: Registers | None = None, group: str | None = "shelf-node",
                 clock: Callable[[], float] = time.monotonic, detector_fatal_after_s: float | None = None) -> None:
        self.source = source
        self.clock = clock
        self.maintenance = MaintenanceMode()
        self.recent = RecentEvents()
        rules = dict(DEFAULT_RULES)
        if detector_fatal_after_s is not None:  # [health] detector_fatal_after_s
            rules["detector"] = RateRule(rules["detector"].max_per_window, fatal_after_s=detector_fatal_after_s)
        self.rates = ErrorRates(rules)
        self.outbox_health = OutboxHealth()
        self._lock = threading.RLock()  # the LED, the socket and the link threads all ask; re-entered via status
        self.panel = StatusPanel(gpio, _ButtonActions(self), self.condition, clock=clock)
        parts = NodeParts(node=source.node, version=source.version, parts=source.parts, health=self.health,
                          mqtt=source.mqtt, outbox=source.outbox, host=source.host, planogram=source.planogram,
                          gpio=self.panel.status, maintenance=self.maintenance, recent=self.recent,
                          reload=source.reload, serial_lines=source.serial_lines)
        self._observed_at = float("-inf")
        self._condition: tuple[float, NodeCondition] | None = None
        self.control = None if socket_path is None else ControlServer(socket_path, node_handlers(parts, commands),
                                                                      group=group)

    def start(self) -> FieldServices:
        """The panel, then the socket. A socket that cannot be created is logged; the node runs on without it
        (the events matter more than the technician's view)."""
        self.panel.start()
        if self.control is not None:
            try:
                self.control.start()
            except ControlError as exc:
                log.error("%s; the node runs without its control socket (shelf-node status will not reach it)",
                          exc.message)
                self.control = None
        return self

    def stop(self) -> None:
        if self.control is not None:
            self.control.stop()
        self.panel.stop()

    def health(self) -> Health:
        """The verdict now: a failure is a fault; error rates and an outbox that holds or lost events degrade;
        no frame yet is booting; the broker offline degrades (the events wait in the outbox)."""
        with self._lock:
            now = self.clock()
            failure = self.source.failed() or self.source.stalled()
            if failure:
                return Health("fault", (failure,))
            self._observe(now)
            verdict = self.rates.verdict(now)
            if verdict.state == "fault":
                return verdict
            outbox = () if self.source.outbox is None else self.outbox_health.reasons(now, self.source.outbox())
            reasons = verdict.reasons + outbox
            if not self.source.mqtt_connected() and (reasons or not self.source.booting()):
                reasons += (f"mqtt offline, {self.source.queued_events()} events queued",)
            if reasons:
                return Health("degraded", reasons)
            if self.source.booting():
                return Health("booting", ("no weight frame yet",))
            return verdict

    def unrecoverable(self) -> str | None:
        """Why a part keeps failing past its fatal_after_s (the watchdog then stops, systemd restarts the
        service), or None. A rejected node file or a degraded part never restarts it."""
        with self._lock:
            now = self.clock()
            self._observe(now)
            verdict = self.rates.verdict(now)
        stall = self.source.stalled()
        if stall:
            return stall
        return "; ".join(verdict.reasons) if verdict.state == "fault" else None

    def _observe(self, now: float) -> None:
        if now - self._observed_at < OBSERVE_EVERY_S:
            return
        self._observed_at = now  # first: reading the node's status asks its health, which comes back here
        self.rates.observe(now, self.source.errors())

    def condition(self) -> NodeCondition:
        now = self.clock()
        if self._condition is not None and now - self._condition[0] < CONDITION_EVERY_S:
            return self._condition[1]
        health = self.health()
        degraded = health.reasons if health.state == "degraded" else ()
        condition = NodeCondition(
            booting=health.state == "booting",
            fault="; ".join(health.reasons) if health.state == "fault" else None,
            degraded=tuple(r for r in degraded if not r.startswith("mqtt offline")),  # the LED has its own state
            mqtt_connected=self.source.mqtt_connected(), queued_events=self.source.queued_events(),
            maintenance=self.maintenance.on)
        self._condition = (now, condition)
        return condition


def node_source(node: Any, host: Callable[[], Record] | None = None,
                provisioning: Callable[[], str | None] | None = None, stall_s: float | None = None) -> NodeSource:
    """The NodeSource of an `edge.node.Node` (duck-typed: the control layer sits below the node's). `host` samples
    CPU, memory and temperature; `provisioning` says why the node file was rejected (a fault on the LED); a port
    that stays open without a frame for `stall_s` is a stalled stream (the reader cannot see it as lost)."""
    config = node.config
    health = getattr(config, "health", None)
    stall_s = stall_s if stall_s is not None else health.serial_stall_s if health is not None else STALL_S

    def stalled() -> str | None:
        serial = node.reader.status()
        age = serial.last_frame_age_s
        if serial.port.connected and age is not None and age >= stall_s:
            return f"serial: no weight frame for {age:.0f} s with the port open (the board hangs?)"
        return None

    def failed() -> str | None:
        return node.failed() or (provisioning() if provisioning is not None else None)

    def errors() -> dict[str, int]:
        status, link = node.status(), node.link.status()
        counts = {"serial": status.serial.errors + status.serial.unexpected_errors,
                  "link": link.connect_failures + link.internal_errors,
                  "processing": status.pipeline.frames_dropped}
        items = getattr(node, "items", None)
        if items is not None:
            counts["fusion"] = items.errors
        if status.vision is not None:
            counts["detector"] = status.vision.detector_errors
            counts["camera"] = status.vision.camera.dropouts + status.vision.camera.unexpected_errors
        return counts

    def serial_lines(after: int, limit: int) -> dict[str, Any]:
        lines, last = node.raw_lines.after(after, limit)
        judge = LineJudge(config.serial)  # its own counters: a sniff never touches the node's
        return {"port": config.serial.port, "protocol": config.serial.protocol, "last": last,
                "lines": [{"n": n, **judge.judge(t, raw).to_json()} for n, t, raw in lines]}

    def planogram() -> dict[str, Any] | None:  # {id, version} of the one fusion runs on: start, hub or reload
        items = getattr(node, "items", None)
        return None if items is None else items.status().planogram

    return NodeSource(
        node=f"{config.node.store_id}/{config.node.node_id}", version=_version(), parts=node.status,
        scale=node.weigher, mqtt_connected=lambda: bool(node.link.connected), queued_events=lambda: node.outbox.depth,
        booting=lambda: node.counters.frames == 0, failed=failed, errors=errors, stalled=stalled, mqtt=node.link.status,
        outbox=node.outbox.status, host=host, reload=getattr(node, "reload", None), planogram=planogram,
        serial_lines=serial_lines if hasattr(node, "raw_lines") else None)


def _version() -> str:
    from edge import __version__

    return __version__
