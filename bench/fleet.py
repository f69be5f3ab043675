"""A store's fleet on one broker: N real `shelf-node run` daemons, weight-only simulated shelves, one mosquitto.

The shelves are played by one process (edge.sim.fleet_player: shoppers only, `per_minute` picks and
put-backs per shelf, each a weight event and an item event); the daemons are the real ones, each with its own
config, state dir (factory calibration, outbox), planogram file and pty. The hub is the reference subscriber
(edge.hub, persistent session). Midway the broker is restarted (SIGTERM, down `outage_s`, started again on
the same port with its persistence) and `kills` nodes are killed with SIGKILL and started again.

At the end every daemon is stopped and its outbox read: zero loss means the hub received seq 1 to the
outbox's last seq of every node, each once by event_id (duplicates are counted, as the hub drops them),
with nothing left pending.

    scripts/bench fleet                       # 100 nodes (about 12 minutes)
    .venv/bin/python -m bench.fleet --nodes 20 --steady 60 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.benchmark import Benchmark
from bench.fleet_hub import BrokerCounters, HubView, percentile
from bench.fleet_nodes import (
    REPO,
    Fleet,
    FleetNode,
    ProcSample,
    cpu_percent,
    sample,
    snapshot_head,
    stop_on_sigterm,
    uptime_load,
)
from bench.fleet_truth import MARGIN_S, WARM_S, TruthCheck, check, windows
from edge.demo.broker import LocalBroker, mosquitto_available

STORE = "store1"
START_BATCH = 5  # daemons started together; the next batch once these are online
ONLINE_TIMEOUT_S = 120.0
SCENARIO_S = 2 * 3600.0  # the player renders each shelf's whole scenario up front: ~2 MB per hour


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    p95: float
    max: float

    @staticmethod
    def of(values: list[float]) -> Spread:
        ordered = sorted(values) or [0.0]
        return Spread(statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
                      ordered[-1])


@dataclass(frozen=True, slots=True)
class Recovery:
    """A fault and how the fleet came back: all affected nodes online again, and their backlog in."""

    what: str
    down_s: float
    reconnect_s: float | None  # from the fault's end to the last affected node's `online`
    drain_s: float | None  # from the fault's end to the last backlog (historical) event at the hub
    backlog_events: int  # historical events the hub received after it


@dataclass(frozen=True, slots=True)
class Resources:
    """Every process over the steady window (no fault, the fleet warmed up)."""

    node_rss_mb: Spread  # steady window end
    node_cpu_percent: Spread  # of one core, over the steady window
    fleet_cpu_cores: float  # all daemons together, cores
    broker_cpu_percent: float
    broker_rss_mb: float
    player_cpu_percent: float
    hub_cpu_percent: float  # this process: the reference subscriber validating every message
    broker_publish_in_per_s: float  # $SYS publish/messages/received over the steady window
    broker_publish_out_per_s: float
    events_per_s: float  # distinct events at the hub over the steady window


@dataclass(frozen=True, slots=True)
class FleetResult:
    nodes: int
    sps: float
    per_minute: float
    startup_s: float  # every daemon started and online
    steady_s: float
    resources: Resources
    recoveries: tuple[Recovery, ...]
    interactions: int  # the player's truth: shopper actions settled during the run
    item_events: int
    weight_events: int
    unique_events: int
    duplicates: int
    missing: int  # seqs never received (gaps, a head or a tail the outbox has and the hub not)
    invalid: int
    pending_at_end: int  # events still in outboxes after the stop
    lost_lines: int  # serial lines no daemon read (written before its start, or while it was killed)
    truth: TruthCheck  # interactions while a node was up, matched to item events (bench/fleet_truth.py)
    latency_p50_s: float  # event ts (the change's end) -> the hub, events that were not backlog
    latency_p95_s: float
    daemon_exit_codes: tuple[int | None, ...]
    load_start: str
    load_end: str
    duration_s: float

    @property
    def zero_loss(self) -> bool:
        return self.missing == 0 and self.invalid == 0 and self.pending_at_end == 0 and self.unique_events > 0


def run(nodes: int = 100, sps: float = 10.0, per_minute: float = 5.0, steady_s: float = 120.0,
        outage_s: float = 15.0, kills: int = 10, down_s: float = 10.0, tail_s: float = 60.0,
        quiet_s: float = 5.0, workdir: Path | None = None, keep: bool = False, code: str = "tree") -> FleetResult:
    """`quiet_s`: a backlog is in when no backlog event came for this long. `code`: "tree" runs the daemons
    from the working tree, "head" from a snapshot of git HEAD's edge/."""
    root = Path(tempfile.mkdtemp(prefix="shelf-fleet-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    began, load_start = time.monotonic(), uptime_load()
    broker = LocalBroker(root / "broker", extra_conf=["sys_interval 1"])
    fleet = Fleet(root, sps, SCENARIO_S, per_minute,
                  REPO if code == "tree" else snapshot_head(root / "code"))
    hub: HubView | None = None
    counters: BrokerCounters | None = None
    try:
        broker.start()
        hub, counters = HubView(broker.port).start(), BrokerCounters(broker.port).start()
        for index in range(nodes):
            fleet.add(STORE, f"n{index + 1:03d}", 1000 + index, broker.port)
        fleet.start_player()
        startup_s = _start_all(fleet, hub)
        if not hub.wait(lambda: all(_events(hub, n) > 0 for n in fleet.nodes), 180.0):
            raise RuntimeError(f"not every node published an event within 180 s; logs under {root}")
        window = _steady(fleet, hub, counters, broker, steady_s)
        ends: dict[str, list[float]] = {}  # node -> unix times its daemon was killed or stopped
        recoveries = (_restart_broker(fleet, hub, broker, outage_s, quiet_s),
                      _kill_nodes(fleet, hub, kills, down_s, quiet_s, ends))
        time.sleep(tail_s)
        for node in fleet.nodes:
            ends.setdefault(node.name, []).append(time.time())
        exits = fleet.stop_nodes()
        player = fleet.stop_player()
        missing, pending = _account(fleet, hub)
        tracker = hub.watcher.tracker
        shelves = player.get("shelves", [])
        assert isinstance(shelves, list)
        return FleetResult(
            nodes=nodes, sps=sps, per_minute=per_minute, startup_s=startup_s, steady_s=steady_s, resources=window,
            recoveries=recoveries,
            interactions=sum(int(s["interactions"]) for s in shelves),
            item_events=hub.kinds["item"], weight_events=hub.kinds["weight"],
            unique_events=tracker.unique_events,
            duplicates=sum(n.duplicates for n in tracker.nodes.values()),
            missing=missing, invalid=sum(n.invalid for n in tracker.nodes.values()), pending_at_end=pending,
            lost_lines=sum(int(s["lines_lost"]) for s in shelves), truth=_truth(fleet, hub, ends),
            latency_p50_s=percentile(hub.latency_s, 0.5), latency_p95_s=percentile(hub.latency_s, 0.95),
            daemon_exit_codes=tuple(sorted(set(exits.values()), key=str)),
            load_start=load_start, load_end=uptime_load(), duration_s=time.monotonic() - began)
    finally:
        fleet.close()
        if hub is not None:
            hub.stop()
        if counters is not None:
            counters.stop()
        broker.stop()
        if workdir is None and not keep:
            shutil.rmtree(root, ignore_errors=True)


def _events(hub: HubView, node: FleetNode) -> int:
    state = hub.node(node.store, node.name)
    return 0 if state is None else state.events


def _start_all(fleet: Fleet, hub: HubView) -> float:
    began = time.monotonic()
    for first in range(0, len(fleet.nodes), START_BATCH):
        batch = fleet.nodes[first:first + START_BATCH]
        since = time.monotonic()
        for node in batch:
            fleet.start(node)
        if not _wait_online(hub, batch, since):
            raise RuntimeError(f"nodes {[n.name for n in batch]} not online within {ONLINE_TIMEOUT_S:g} s; "
                               f"see their node.log under {fleet.root}")
    return time.monotonic() - began


def _wait_online(hub: HubView, nodes: list[FleetNode], since: float) -> bool:
    keys = [(n.store, n.name) for n in nodes]
    return hub.wait(lambda: hub.online_since(keys, since) is not None, ONLINE_TIMEOUT_S)


def _steady(fleet: Fleet, hub: HubView, counters: BrokerCounters, broker: LocalBroker,
            steady_s: float) -> Resources:
    """CPU and memory of every process, and the broker's and hub's rates, over a quiet window."""
    pids = {n.name: n.pid for n in fleet.nodes}
    others = {"broker": broker.proc.pid if broker.proc else None,
              "player": fleet.player.pid if fleet.player else None, "hub": os.getpid()}
    before = {name: sample(pid) for name, pid in {**pids, **others}.items() if pid is not None}
    at0, sys0 = counters.snapshot()
    events0 = hub.watcher.tracker.unique_events
    time.sleep(steady_s)
    after = {name: sample(pid) for name, pid in {**pids, **others}.items() if pid is not None}
    at1, sys1 = counters.snapshot()
    events1 = hub.watcher.tracker.unique_events

    def pair(name: str) -> tuple[ProcSample, ProcSample] | None:
        first, last = before.get(name), after.get(name)
        return (first, last) if first is not None and last is not None else None

    node_pairs = [p for p in (pair(name) for name in pids) if p is not None]
    if len(node_pairs) < len(pids):
        raise RuntimeError(f"{len(pids) - len(node_pairs)} daemon(s) exited during the steady window; "
                           f"see node.log under {fleet.root}")

    def rate(key: str) -> float:
        return (sys1.get(key, 0.0) - sys0.get(key, 0.0)) / max(at1 - at0, 1e-9)

    def share(name: str) -> float:
        found = pair(name)
        return cpu_percent(*found) if found else float("nan")

    broker_after = after.get("broker")
    return Resources(node_rss_mb=Spread.of([b.rss_bytes / 2**20 for _, b in node_pairs]),
                     node_cpu_percent=Spread.of([cpu_percent(a, b) for a, b in node_pairs]),
                     fleet_cpu_cores=sum(cpu_percent(a, b) for a, b in node_pairs) / 100.0,
                     broker_cpu_percent=share("broker"),
                     broker_rss_mb=broker_after.rss_bytes / 2**20 if broker_after else float("nan"),
                     player_cpu_percent=share("player"), hub_cpu_percent=share("hub"),
                     broker_publish_in_per_s=rate("publish/messages/received"),
                     broker_publish_out_per_s=rate("publish/messages/sent"),
                     events_per_s=(events1 - events0) / steady_s)


def _backlog_in(hub: HubView, since: float, quiet_s: float = 5.0, timeout: float = 180.0) -> tuple[float | None, int]:
    """Wait until no backlog event has arrived for `quiet_s`; (last one's time after `since`, how many)."""
    hub.wait(lambda: time.monotonic() - max([since, *hub.historical_between(since, time.monotonic())]) > quiet_s,
             timeout)
    arrived = hub.historical_between(since, time.monotonic())
    return (max(arrived) - since if arrived else None), len(arrived)


def _restart_broker(fleet: Fleet, hub: HubView, broker: LocalBroker, outage_s: float, quiet_s: float) -> Recovery:
    broker.stop()  # SIGTERM: mosquitto saves its persistence (the hub's session and queue) and exits
    time.sleep(outage_s)
    broker.start()
    up = time.monotonic()
    keys = [(n.store, n.name) for n in fleet.nodes]
    hub.wait(lambda: hub.online_since(keys, up) is not None, ONLINE_TIMEOUT_S)
    online = hub.online_since(keys, up)
    drain, backlog = _backlog_in(hub, up, quiet_s)
    return Recovery(f"broker restart, {len(fleet.nodes)} nodes", outage_s,
                    None if online is None else online - up, drain, backlog)


def _kill_nodes(fleet: Fleet, hub: HubView, kills: int, down_s: float, quiet_s: float,
                ends: dict[str, list[float]]) -> Recovery:
    step = max(1, len(fleet.nodes) // max(kills, 1))
    victims = fleet.nodes[::step][:kills]
    for node in victims:
        ends.setdefault(node.name, []).append(time.time())
        fleet.kill(node)
    time.sleep(down_s)
    up = time.monotonic()
    for node in victims:
        fleet.start(node)
    keys = [(n.store, n.name) for n in victims]
    hub.wait(lambda: hub.online_since(keys, up) is not None, ONLINE_TIMEOUT_S)
    online = hub.online_since(keys, up)
    drain, backlog = _backlog_in(hub, up, quiet_s)
    return Recovery(f"kill -9 of {len(victims)} nodes, restarted", down_s,
                    None if online is None else online - up, drain, backlog)


def _account(fleet: Fleet, hub: HubView, timeout: float = 30.0) -> tuple[int, int]:
    """(seqs the hub never received, events left pending), from every outbox file after the stop."""
    outboxes = {n.name: n.outbox() for n in fleet.nodes}

    def complete() -> bool:
        return all((s := hub.node(STORE, name)) is not None and s.last_seq == box.last_seq
                   for name, box in outboxes.items())

    hub.wait(complete, timeout)
    missing = pending = 0
    for name, box in outboxes.items():
        state = hub.node(STORE, name)
        pending += box.depth
        if state is None or state.last_seq is None:
            missing += box.last_seq
            continue
        missing += (state.first_seq or 1) - 1 + len(state.missing) + state.missing_untracked
        missing += max(0, box.last_seq - state.last_seq)
    return missing, pending


def _truth(fleet: Fleet, hub: HubView, ends: dict[str, list[float]]) -> TruthCheck:
    checks = [check(n.workdir / "truth.jsonl", windows(hub.online_unix.get((n.store, n.name), []), ends[n.name]),
                    hub.item_starts.get((n.store, n.name), [])) for n in fleet.nodes]
    return TruthCheck(sum(c.interactions for c in checks), sum(c.matched for c in checks),
                      sum(c.extra_items for c in checks))


def render_markdown(result: FleetResult) -> str:
    r, res = result, result.resources
    verdict = "**zero loss**" if r.zero_loss else "**LOSS**"
    lines = [
        f"{r.nodes} real `shelf-node run` daemons (weight-only, 4 channels, 2 plates, {r.sps:g} SPS, shoppers at "
        f"{r.per_minute:g} interactions per minute per shelf) against one mosquitto, the reference hub "
        f"subscriber validating every message. Load average (1 / 5 / 15 min): {r.load_start} at the start, "
        f"{r.load_end} at the end; {r.duration_s / 60:.1f} minutes in all.",
        "",
        "| figure | value |", "|---|---|",
        f"| start of all daemons, batches of {START_BATCH} | {r.startup_s:.0f} s |",
        f"| per-node RSS (median / p95 / max) | {res.node_rss_mb.median:.1f} / {res.node_rss_mb.p95:.1f} / "
        f"{res.node_rss_mb.max:.1f} MiB |",
        f"| per-node CPU, {r.steady_s:.0f} s window (median / p95 / max) | {res.node_cpu_percent.median:.2f} / "
        f"{res.node_cpu_percent.p95:.2f} / {res.node_cpu_percent.max:.2f} % of one core |",
        f"| all daemons together | {res.fleet_cpu_cores:.2f} cores |",
        f"| broker CPU, RSS | {res.broker_cpu_percent:.2f} % of one core, {res.broker_rss_mb:.1f} MiB |",
        f"| broker PUBLISH in / out | {res.broker_publish_in_per_s:.1f} / {res.broker_publish_out_per_s:.1f} per s |",
        f"| distinct events at the hub | {res.events_per_s:.1f} per s |",
        f"| shelf player (all shelves), hub subscriber | {res.player_cpu_percent:.1f} %, {res.hub_cpu_percent:.1f} % "
        f"of one core |",
    ]
    for rec in r.recoveries:
        reconnect = "not all" if rec.reconnect_s is None else f"{rec.reconnect_s:.1f} s"
        drain = "no backlog" if rec.drain_s is None else f"{rec.drain_s:.1f} s"
        lines.append(f"| {rec.what}, down {rec.down_s:g} s: all online again / backlog in | {reconnect} / {drain} "
                     f"({rec.backlog_events} backlog events) |")
    lines += [
        f"| events at the hub: distinct (item / weight), duplicates dropped by event_id | {r.unique_events} "
        f"({r.item_events} / {r.weight_events}), {r.duplicates} |",
        f"| seqs missing, invalid payloads, pending in outboxes after the stop | {r.missing}, {r.invalid}, "
        f"{r.pending_at_end}: {verdict} |",
        f"| from the change's end (the event's ts) to the hub, events that were not backlog (p50 / p95) | "
        f"{r.latency_p50_s:.2f} / {r.latency_p95_s:.2f} s |",
        f"| shopper interactions while a node was up (from {WARM_S:g} s after it came online to {MARGIN_S:g} s "
        f"before its kill or stop): with an item event at the hub; item events matching none | "
        f"{r.truth.matched} of {r.truth.interactions}; {r.truth.extra_items} |",
        f"| shopper interactions played in all (from the player's start); serial lines no daemon read (before "
        f"its start, while killed) | {r.interactions}; {r.lost_lines} |",
        f"| daemon exit codes after SIGTERM | {', '.join(str(c) for c in r.daemon_exit_codes)} |",
    ]
    return "\n".join(lines) + "\n"


def unavailable() -> str | None:
    return None if mosquitto_available() else "needs mosquitto (apt-get install mosquitto)"


BENCHMARK = Benchmark(
    name="fleet",
    title="a store's fleet: 100 real daemons on one mosquitto, broker restart and kill -9, zero loss",
    run=run,
    render=render_markdown,
    quick={"nodes": 10, "per_minute": 10.0, "steady_s": 30.0, "outage_s": 5.0, "kills": 2, "down_s": 3.0,
           "tail_s": 15.0},
    full={"nodes": 100},
    opt_in=True,
    detail="scale-out.md",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--sps", type=float, default=10.0)
    parser.add_argument("--per-minute", type=float, default=5.0)
    parser.add_argument("--steady", type=float, default=120.0, help="seconds of the resource window")
    parser.add_argument("--outage", type=float, default=15.0, help="seconds the broker is down")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--tail", type=float, default=60.0)
    parser.add_argument("--workdir", type=Path, help="keep every node's files here (default: a temp dir, removed)")
    parser.add_argument("--code", choices=("tree", "head"), default="tree",
                        help="run the daemons from the working tree (default) or from a snapshot of git HEAD")
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    result = run(args.nodes, args.sps, args.per_minute, args.steady, args.outage, args.kills, tail_s=args.tail,
                 workdir=args.workdir, code=args.code)
    sys.stdout.write(render_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=1) + "\n", encoding="utf-8")
    return 0 if result.zero_loss else 1


if __name__ == "__main__":
    raise SystemExit(main())
