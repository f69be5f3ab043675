"""Many simulated weight-only shelves on pseudo-terminals, played by one process: a store's fleet.

`PtyShelf` runs one thread per shelf and suits one node; a store of 100 nodes on two cores needs
something lighter. `FleetPlayer` keeps one `Simulation` (the same engine, so the same lines for a seed)
per shelf, renders each a block ahead of real time, and one loop writes every shelf's due lines to its
pty and answers `$Q` with the info frame, as the MCU does. A pty whose reader is gone (a killed node)
fills up and loses lines, counted, as a USB serial line would.

    python -m edge.sim.fleet_player MANIFEST.json      # plays until SIGTERM, then writes the summary

The manifest is `{"sps": 10, "duration_s": 3600, "shelves": [{"config": "node.toml", "seed": 1,
"link": "shelf-tty", "truth": "truth.jsonl"}, ...], "summary": "player.json"}`; each shelf is wired as
its node's config says (`ShelfLayout.from_config`), so the node's factory calibration matches it.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sys
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import load_config
from edge.loadcell.framing import QUERY
from edge.sim.engine import Simulation
from edge.sim.generate import CATALOGUE
from edge.sim.layout import ShelfLayout
from edge.sim.mcu import Line
from edge.sim.scenario import Action, Item, Scenario, Slot
from edge.sim.truth import TruthRecord, write_truth

RENDER_AHEAD_S = 1.0  # each shelf is rendered this far ahead of real time
TICK_S = 0.005  # lines due within this of each other are written in one pass
MAX_UNIT_G = 1200.0  # lighter than [weighing] hold_above_g: no put is held for a lean check
MIN_GAP_S = 4.0  # a pick settles within about 2 s; the next interaction on the shelf starts after this


def shopper_scenario(seed: int, duration_s: float, plates: list[str], per_minute: float = 5.0) -> Scenario:
    """Shoppers only: picks and put-backs of one item, `per_minute` on average (at least MIN_GAP_S apart),
    on random plates, one SKU per plate, about 3.5 kg of it, never picked empty (a put-back then). No bumps,
    leans or line faults: every interaction should become one weight event and one item event."""
    if per_minute <= 0 or 60.0 / per_minute < MIN_GAP_S:
        raise ValueError(f"per_minute must be in (0, {60.0 / MIN_GAP_S:g}], got {per_minute}")
    rng = np.random.default_rng([seed, 0xF1EE7])
    light = [entry for entry in CATALOGUE if entry[1] <= MAX_UNIT_G]
    chosen = [light[int(i)] for i in rng.choice(len(light), size=len(plates), replace=len(plates) > len(light))]
    skus = {plate: sku for plate, (sku, _) in zip(plates, chosen, strict=True)}
    items = {sku: Item(sku=sku, unit_g=grams) for sku, grams in chosen}
    stock = {plate: int(np.clip(round(3500.0 / grams), 4, 24))
             for plate, (_, grams) in zip(plates, chosen, strict=True)}
    planogram = [Slot(plate=plate, sku=skus[plate], stock=stock[plate]) for plate in plates]
    actions: list[Action] = []
    basket: list[str] = []  # plates whose item a shopper holds
    t = 5.0
    mean_extra = 60.0 / per_minute - MIN_GAP_S
    while t < duration_s - 10.0:
        plate = plates[int(rng.integers(len(plates)))]
        if basket and (rng.random() < 0.5 or stock[plate] < 2):
            plate = basket.pop(int(rng.integers(len(basket))))
            actions.append(Action(at=t, kind="put", plate=plate, sku=skus[plate]))
            stock[plate] += 1
        elif stock[plate] >= 2:
            actions.append(Action(at=t, kind="pick", plate=plate))
            basket.append(plate)
            stock[plate] -= 1
        t += MIN_GAP_S + float(rng.exponential(mean_extra)) if mean_extra > 0 else MIN_GAP_S
    return Scenario(name=f"shoppers-{seed}", seed=seed, duration_s=duration_s, items=list(items.values()),
                    planogram=planogram, actions=actions, planogram_id=f"fleet-{seed}")


@dataclass
class PlayedShelf:
    """One shelf of the fleet: its simulation, its pty and its counters."""

    name: str
    sim: Simulation
    link_path: Path
    truth_path: Path | None = None
    master: int = -1
    slave: int = -1
    slave_path: str = ""
    lines_sent: int = 0
    lines_lost: int = 0
    queries_answered: int = 0
    pending: deque[Line] = field(default_factory=deque)
    inbox: bytes = b""

    def open(self) -> None:
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.slave_path = os.ttyname(self.slave)
        temporary = self.link_path.with_name(self.link_path.name + ".new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(self.slave_path)
        temporary.replace(self.link_path)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
        self.link_path.unlink(missing_ok=True)

    def send(self, raw: bytes) -> None:
        try:
            written = os.write(self.master, raw)
        except BlockingIOError:  # nobody reads (the node is down): the line is lost, as on a USB line
            self.lines_lost += 1
            return
        if written < len(raw):
            self.lines_lost += 1
        else:
            self.lines_sent += 1

    def serve_queries(self) -> None:
        try:
            data = os.read(self.master, 1024)
        except (BlockingIOError, OSError):
            return
        self.inbox = (self.inbox + data)[-4096:]
        while b"\n" in self.inbox:
            line, _, self.inbox = self.inbox.partition(b"\n")
            if line.rstrip(b"\r") + b"\n" == QUERY:
                self.send(self.sim.encoder.info_line())
                self.queries_answered += 1

    def happened(self, start_time: float, elapsed_s: float) -> list[TruthRecord]:
        """Interactions settled by `elapsed_s`, in unix time."""
        return [r.shifted(start_time) for r in self.sim.truth if r.t_settled <= elapsed_s]


class FleetPlayer:
    """Plays every shelf in real time from one thread: `start()`, `stop()`, `summary()`."""

    def __init__(self, shelves: list[PlayedShelf]) -> None:
        self.shelves = shelves
        self.start_time = 0.0
        self._start_monotonic = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> FleetPlayer:
        for shelf in self.shelves:
            shelf.open()
        self.start_time, self._start_monotonic = time.time(), time.monotonic()
        self._thread = threading.Thread(target=self._run, name="fleet-player", daemon=True)
        self._thread.start()
        return self

    def elapsed_s(self) -> float:
        return time.monotonic() - self._start_monotonic

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        elapsed = self.elapsed_s()
        for shelf in self.shelves:
            if shelf.truth_path is not None:
                with shelf.truth_path.open("w", encoding="utf-8", newline="\n") as file:
                    for record in shelf.happened(self.start_time, elapsed):
                        write_truth(file, record)
            shelf.close()

    def summary(self) -> dict[str, Any]:
        elapsed = self.elapsed_s()
        return {"start_time": self.start_time, "elapsed_s": round(elapsed, 3), "error": self.error,
                "shelves": [{"name": s.name, "lines_sent": s.lines_sent, "lines_lost": s.lines_lost,
                             "queries_answered": s.queries_answered,
                             "interactions": sum(r.expect_event for r in s.happened(self.start_time, elapsed))}
                            for s in self.shelves]}

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = self.elapsed_s()
                next_due = now + 0.05
                for shelf in self.shelves:
                    if not shelf.pending and shelf.sim.renderer.rendered_until < now + RENDER_AHEAD_S:
                        shelf.pending.extend(shelf.sim.step()[1])
                    while shelf.pending and shelf.pending[0][0] <= now:
                        shelf.send(shelf.pending.popleft()[1])
                    if shelf.pending:
                        next_due = min(next_due, shelf.pending[0][0])
                wait = max(TICK_S, next_due - self.elapsed_s())
                readable, _, _ = select.select([s.master for s in self.shelves], [], [], wait)
                if readable:
                    ready = set(readable)
                    for shelf in self.shelves:
                        if shelf.master in ready:
                            shelf.serve_queries()
        except OSError as exc:
            self.error = f"fleet player stopped on an I/O error: {exc}"
            raise


def shelves_from_manifest(manifest: dict[str, Any], base: Path) -> list[PlayedShelf]:
    sps = float(manifest.get("sps", 10.0))
    duration = float(manifest.get("duration_s", 3600.0))
    per_minute = float(manifest.get("per_minute", 5.0))
    shelves = []
    for entry in manifest["shelves"]:
        config = load_config(base / entry["config"])
        seed = int(entry["seed"])
        layout = ShelfLayout.from_config(config, seed)
        scenario = shopper_scenario(seed, duration, layout.plate_names(), per_minute)
        truth = entry.get("truth")
        shelves.append(PlayedShelf(config.node.node_id, Simulation(scenario, layout, sps), base / entry["link"],
                                   base / truth if truth else None))
    return shelves


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m edge.sim.fleet_player MANIFEST.json\n")
        return 2
    path = Path(args[0])
    manifest = json.loads(path.read_text(encoding="utf-8"))
    player = FleetPlayer(shelves_from_manifest(manifest, path.parent))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    player.start()
    ready = manifest.get("ready")
    if ready:  # the caller waits for this file: every link exists
        (path.parent / ready).write_text(f"{os.getpid()}\n", encoding="utf-8")
    while not stop.wait(0.5):
        if player.error is not None:
            break
    player.stop()
    summary = player.summary()
    (path.parent / manifest.get("summary", "player.json")).write_text(json.dumps(summary, indent=1),
                                                                       encoding="utf-8")
    return 1 if summary["error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
