"""The control socket's commands for a running node, each bound to the narrow collaborator it reads or
acts on (callables returning the parts' own status records), so the node wires them in one call and a
test wires them to real parts without a Node:

    status       everything at a glance (NodeReport)                      read-only
    events       {"n": 10, "after": 0}: the latest weight and item events  read-only
    maintenance  {"on": true|false} or {} for the current mode             changes state
    reload       re-read the config and planogram files (edge/control/reload.py)   changes state
    serial-lines {"after": 0, "limit": 200}: the latest raw serial lines, judged   read-only
    + the node's own commands (tare, calibrate, weights, ...) through `commands.register(table)`
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge.control.handlers import Handler, HandlerTable
from edge.control.report import Health, NodeReport, RecentEvents, Record
from edge.errors import CommandError


class Registers(Protocol):
    """A command set that registers itself (edge.node.commands.NodeCommands)."""

    def register(self, registry: Any) -> None: ...


class Switch(Protocol):
    """edge.gpio.maintenance.MaintenanceMode"""

    @property
    def on(self) -> bool: ...
    def set(self, on: bool, by: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class NodeParts:
    """Where each section of the status comes from. Only `node`, `version` and `parts` are required."""

    node: str
    version: str
    parts: Callable[[], Record]  # Node.status
    health: Callable[[], Health]
    mqtt: Callable[[], Record] | None = None  # MqttLink.status
    outbox: Callable[[], Record] | None = None  # Outbox.status
    host: Callable[[], Record] | None = None  # HostStats.sample
    planogram: Callable[[], dict[str, Any] | None] | None = None
    gpio: Callable[[], Record] | None = None  # StatusPanel.status
    maintenance: Switch | None = None
    recent: RecentEvents = field(default_factory=RecentEvents)
    reload: Callable[[], Record] | None = None  # Node.reload: re-read the config and planogram files
    serial_lines: Callable[[int, int], dict[str, Any]] | None = None  # (after, limit) -> judged raw lines
    started: float = field(default_factory=time.monotonic)


def node_handlers(parts: NodeParts, commands: Registers | None = None) -> HandlerTable:
    table = HandlerTable()
    if commands is not None:
        commands.register(table)
    table.add("status", Handler(lambda args: report(parts), description="Everything at a glance."))
    table.add("events", Handler(parts.recent.handler, params=("n", "after"),
                                description="The latest weight and item events, oldest first."))
    if parts.reload is not None:
        reload = parts.reload
        table.add("reload", Handler(lambda args: reload(), changes_state=True,
                                    description="Re-read the config and planogram files (as SIGHUP)."))
    if parts.serial_lines is not None:
        lines = parts.serial_lines
        table.add("serial-lines", Handler(lambda args: _serial_lines(lines, args), params=("after", "limit"),
                                          description="The latest raw serial lines with their verdicts and "
                                                      "fields, numbered: {'after': N, 'limit': 200}."))
    if parts.maintenance is not None:
        table.add("maintenance", Handler(lambda args: _maintenance(parts, args), changes_state=True,
                                         params=("on",), description="Restock mode: {'on': true|false}."))
    return table


def report(parts: NodeParts) -> NodeReport:
    def read(source: Callable[[], Any] | None) -> Any:
        return None if source is None else source()

    return NodeReport(
        node=parts.node, software_version=parts.version, uptime_s=time.monotonic() - parts.started,
        health=parts.health(), parts=parts.parts(), mqtt=read(parts.mqtt), outbox=read(parts.outbox),
        host=read(parts.host), planogram=read(parts.planogram), gpio=read(parts.gpio),
        maintenance=bool(parts.maintenance and parts.maintenance.on), recent_events=tuple(parts.recent.tail(10)),
    )


def _maintenance(parts: NodeParts, args: dict[str, Any]) -> dict[str, Any]:
    assert parts.maintenance is not None
    if "on" in args:
        if not isinstance(args["on"], bool):
            raise CommandError(f"args.on must be true or false, got {args['on']!r}")
        parts.maintenance.set(args["on"], by="control socket")
    return {"maintenance": parts.maintenance.on}


MAX_SERIAL_LINES = 1000


def _serial_lines(lines: Callable[[int, int], dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    after, limit = args.get("after", 0), args.get("limit", 200)
    for name, value in (("after", after), ("limit", limit)):
        if type(value) is not int or value < 0:
            raise CommandError(f"args.{name} must be a whole number >= 0, got {value!r}")
    return lines(after, min(limit, MAX_SERIAL_LINES))
