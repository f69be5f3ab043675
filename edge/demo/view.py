"""What the demo prints: the hub's view of the node next to the simulator's ground truth.

On a terminal the screen is redrawn in place; otherwise (CI, a pipe) each event is one line.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TextIO

from edge.mqtt.hub import HubRecord
from edge.sim.truth import TruthRecord

MATCH_WINDOW_S = 2.0
CLEAR = "\033[H\033[2J"


@dataclass
class DemoView:
    out: TextIO
    live: bool  # redraw a screen (terminal) or print lines (pipe)
    header: str
    node_state: str = "?"
    session: int = 0
    weights: dict[str, float | None] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=12))
    received: int = 0
    invalid: int = 0
    matched: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _truth: list[TruthRecord] = field(default_factory=list)

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
            elif record.type == "event" and record.note != "duplicate":
                self.received += 1
                row = self._describe(payload)
                self.events.appendleft(row)
                self._line(row["text"])

    # called on the main thread -------------------------------------------------------------------
    def update_truth(self, truth: list[TruthRecord]) -> None:
        with self._lock:
            self._truth = truth

    def render(self, true_grams: dict[str, float]) -> None:
        if not self.live:
            return
        with self._lock:
            lines = [self.header, f"node: {self.node_state} (session {self.session})    "
                     f"events received by the hub: {self.received}, matched to ground truth: {self.matched}, "
                     f"invalid payloads: {self.invalid}", "", "plate   hub sees (g)   simulator truth (g)"]
            for plate in sorted(set(true_grams) | set(self.weights)):
                seen = self.weights.get(plate)
                shown = "      -" if seen is None else f"{seen:9.1f}"
                lines.append(f"{plate:<6} {shown:>12}   {true_grams.get(plate, float('nan')):12.1f}")
            lines += ["", "latest events (newest first)"]
            lines += [row["text"] for row in self.events] or ["  (waiting for a shopper...)"]
            self.out.write(CLEAR + "\n".join(lines) + "\n")
            self.out.flush()

    def _describe(self, event: dict[str, Any]) -> dict[str, Any]:
        body = event.get("body", {})
        deltas = body.get("plate_deltas_g") or body.get("plate_deltas") or {}
        t_end = body.get("t_end_unix", body.get("t_end", 0.0))
        truth = self._match(deltas, float(t_end))
        if truth is not None:
            self.matched += 1
        split = ", ".join(f"{plate} {delta:+.1f}" for plate, delta in deltas.items())
        told = "no matching truth" if truth is None else (
            f"truth: {truth.kind} {truth.count}x {truth.sku or '?'} "
            + ", ".join(f"{p} {d:+.1f}" for p, d in truth.plates.items()))
        stamp = time.strftime("%H:%M:%S", time.localtime(float(t_end) or time.time()))
        text = (f"  #{event.get('seq')} {stamp} {body.get('delta_g', 0.0):+8.1f} g "
                f"+-{body.get('sigma_g', 0.0):.1f} [{split}] {body.get('quality')}"
                f"{' historical' if event.get('historical') else ''} | {told}")
        return {"text": text}

    def _match(self, deltas: dict[str, float], t_end: float) -> TruthRecord | None:
        for record in reversed(self._truth):
            if not record.expect_event or abs(record.t_settled - t_end) > MATCH_WINDOW_S:
                continue
            if set(record.plates) & set(deltas) and sum(record.plates.values()) * sum(deltas.values()) > 0:
                return record
        return None

    def _line(self, text: str) -> None:
        if not self.live:
            self.out.write(text + "\n")
            self.out.flush()
