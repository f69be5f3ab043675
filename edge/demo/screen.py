"""What the demo prints: the hub's view of the node next to the simulator's ground truth.

On a terminal the screen is redrawn in place; otherwise (CI, a pipe) each event is one line,
printed once it is matched to the ground truth or MATCH_WINDOW_S has passed without a match.
Matching is one to one: an event matches the unused true interaction on the same plates, with
the same sign, settling within MATCH_WINDOW_S, closest in grams. An interaction across several plates
(an item lying on two) may be reported as one weight event per plate: each of those matches it, on
plates of it no earlier event matched.

Scored (the demo's result) are only the events and true interactions that began once the node was
weighing (`weighing_from`): the simulated shopper starts with the shelf, before the daemon, and what it
did while the daemon was still starting (seconds on a loaded machine) the node could not see whole.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from edge.fusion.encode import describe_item_body
from edge.hub.tracker import HubRecord
from edge.sim.truth import TruthRecord

MATCH_WINDOW_S = 2.0
SHOWN_EVENTS = 12
CLEAR = "\033[H\033[2J"


@dataclass
class ShownEvent:
    seq: int
    t_start: float
    t_end: float
    deltas: dict[str, float]
    body: dict[str, Any]
    historical: bool
    arrived: float
    truth: TruthRecord | None = None
    printed: bool = False
    kind: str = "weight"

    def text(self) -> str:
        if self.kind == "item":
            told = "no matching truth" if self.truth is None else (
                f"truth: {self.truth.kind} {self.truth.count}x {self.truth.sku or '?'}")
            stamp = time.strftime("%H:%M:%S", time.localtime(self.t_end))
            return f"  item #{self.seq} {stamp} {describe_item_body(self.body)} | {told}"
        split = ", ".join(f"{plate} {delta:+.1f}" for plate, delta in self.deltas.items())
        told = "no matching truth" if self.truth is None else (
            f"truth: {self.truth.kind} {self.truth.count}x {self.truth.sku or '?'} "
            + ", ".join(f"{p} {d:+.1f}" for p, d in self.truth.plates.items()))
        stamp = time.strftime("%H:%M:%S", time.localtime(self.t_end))
        return (f"  #{self.seq} {stamp} {self.body.get('delta_g', 0.0):+8.1f} g +-{self.body.get('sigma_g', 0.0):.1f}"
                f" [{split}] {self.body.get('quality')}{' historical' if self.historical else ''} | {told}")


@dataclass
class DemoView:
    out: TextIO
    live: bool  # redraw a screen (terminal) or print lines (pipe)
    header: str
    node_state: str = "?"
    session: int = 0
    weights: dict[str, float | None] = field(default_factory=dict)
    events: list[ShownEvent] = field(default_factory=list)
    items: list[ShownEvent] = field(default_factory=list)  # fusion's item events, matched to truth on their own
    invalid: int = 0
    led: str | None = None  # the status LED as the daemon's control socket says, e.g. "running (pins: mock)"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _used_truth: set[int] = field(default_factory=set)
    _used_by_items: set[int] = field(default_factory=set)
    _plates_matched: dict[int, set[str]] = field(default_factory=dict)  # truth id -> its plates weight events matched
    weighing_from: float | None = None  # unix time the node was seen weighing (None: not yet)

    @property
    def received(self) -> int:
        return len(self.events)

    @property
    def scored(self) -> list[ShownEvent]:
        """The weight events of changes that began once the node was weighing."""
        start = self.weighing_from
        return [] if start is None else [event for event in self.events if event.t_start >= start]

    @property
    def matched(self) -> int:
        return sum(1 for event in self.scored if event.truth is not None)

    # called on the MQTT thread -----------------------------------------------------------------
    def on_record(self, record: HubRecord) -> None:
        with self._lock:
            if not record.valid:
                self.invalid += 1
                self._line(f"INVALID {record.type} payload on {record.topic}: {'; '.join(record.problems)}")
                return
            payload = record.payload or {}
            if record.type == "status":
                self.node_state, self.session = payload.get("state", "?"), int(payload.get("session", 0))
                self._line(f"node {record.store}/{record.node} is {self.node_state} (session {self.session})")
            elif record.type == "weights":
                self.weights = dict(payload.get("plates", {}))
            elif record.type == "event" and record.note != "duplicate" and payload.get("kind") == "item":
                body = payload.get("body", {})
                plates = body.get("evidence", {}).get("plates", {})
                deltas = {p: float(v.get("delta_g", 0.0)) for p, v in plates.items()}
                self.items.append(ShownEvent(int(payload.get("seq", 0)), float(body.get("t_start_unix", 0.0)),
                                             float(body.get("t_end_unix", 0.0)), deltas, body,
                                             bool(payload.get("historical")), time.monotonic(), kind="item"))
            elif record.type == "event" and record.note != "duplicate":
                body = payload.get("body", {})
                self.events.append(ShownEvent(int(payload.get("seq", 0)), float(body.get("t_start_unix", 0.0)),
                                              float(body.get("t_end_unix", 0.0)), dict(body.get("plate_deltas_g", {})),
                                              body, bool(payload.get("historical")), time.monotonic()))

    # called on the main thread -------------------------------------------------------------------
    def show_led(self, led: str | None) -> None:
        """The LED state now (None: the daemon does not answer yet); a line when it changes."""
        with self._lock:
            if led is not None and led != self.led:
                self._line(f"status LED: {led}")
            self.led = led if led is not None else self.led

    def update(self, truth: list[TruthRecord], true_grams: dict[str, float]) -> None:
        with self._lock:
            self._match(truth)
            now = time.monotonic()
            for event in self.events + self.items:
                if not event.printed and (event.truth is not None or now - event.arrived > MATCH_WINDOW_S):
                    event.printed = True
                    self._line(event.text())
            if self.live:
                self._draw(true_grams)

    def flush(self, truth: list[TruthRecord]) -> None:
        """Match and print whatever is still pending (at the end of the demo)."""
        with self._lock:
            self._match(truth)
            for event in self.events + self.items:
                if not event.printed:
                    event.printed = True
                    self._line(event.text())

    def _match(self, truth: list[TruthRecord]) -> None:
        for shown, used in ((self.events, self._used_truth), (self.items, self._used_by_items)):
            for event in shown:
                if event.truth is not None:
                    continue
                candidates = [record for record in truth if record.id not in used and _fits(record, event)
                              and (event.kind == "item" or self._plates_left(record) & set(event.deltas))]
                if candidates:
                    best = min(candidates, key=lambda r: abs(sum(r.plates.values()) - sum(event.deltas.values())))
                    event.truth = best
                    if event.kind == "item":
                        used.add(best.id)
                        continue
                    matched = self._plates_matched.setdefault(best.id, set())
                    matched |= set(event.deltas) & set(best.plates)
                    if matched >= set(best.plates):
                        used.add(best.id)

    def _plates_left(self, record: TruthRecord) -> set[str]:
        """The interaction's plates no weight event matched yet."""
        return set(record.plates) - self._plates_matched.get(record.id, set())

    def _draw(self, true_grams: dict[str, float]) -> None:
        lines = [self.header, f"node: {self.node_state} (session {self.session})    LED: {self.led or '-'}    "
                 f"events received by the hub: "
                 f"{self.received} ({len(self.scored)} since the node was weighing), matched to ground truth: "
                 f"{self.matched}, invalid payloads: {self.invalid}",
                 "", "plate    hub sees (g)   true item load (g)   (a hand or a lean shows in the hub's grams only)"]
        for plate in sorted(set(true_grams) | set(self.weights)):
            seen = self.weights.get(plate)
            shown = "-" if seen is None else f"{seen:.1f}"
            lines.append(f"{plate:<6} {shown:>13}   {true_grams.get(plate, float('nan')):18.1f}")
        lines += ["", "latest events (newest first)"]
        lines += [event.text() for event in reversed(self.events[-SHOWN_EVENTS:])] or ["  (waiting for a shopper...)"]
        lines += ["", "latest item events (fusion)"]
        lines += [event.text() for event in reversed(self.items[-SHOWN_EVENTS:])] or ["  (none yet)"]
        self.out.write(CLEAR + "\n".join(lines) + "\n")
        self.out.flush()

    def _line(self, text: str) -> None:
        if not self.live:
            self.out.write(text + "\n")
            self.out.flush()


def _fits(record: TruthRecord, event: ShownEvent) -> bool:
    if not record.expect_event or abs(record.t_settled - event.t_end) > MATCH_WINDOW_S:
        return False
    same_sign = sum(record.plates.values()) * sum(event.deltas.values()) > 0
    return same_sign and bool(set(record.plates) & set(event.deltas))
