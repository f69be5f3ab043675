"""A chain beyond one broker: store mosquittos bridged to a 3-node RabbitMQ cluster, a quorum-queue consumer.

Each store runs its own mosquitto with `nodes_per_store` real daemons (weight-only shelves played by
edge.sim.fleet_player). Its bridge forwards `shelf/<store>/#` at QoS 1 over MQTT 3.1.1 to RabbitMQ's MQTT
plugin, with the store's own user, through the store's uplink: one cuttable TCP proxy per cluster node
(bench.tcp_proxy), listed in a per-store order so the stores start on different nodes. The chain's consumer
reads a durable quorum queue bound to `amq.topic` (bench.chain_consumer). Mid-run one cluster node is
stopped and started again, then one store's uplink is cut (a black hole) and restored. At the end every
daemon is stopped and its outbox read: zero loss means the consumer saw seq 1 to the outbox's last seq of
every node; duplicates are counted (dropped by event_id). docs/scale-out.md describes the deployment.

    scripts/bench chain                        # 2 stores x 3 nodes, about 8 minutes with the cluster's start
    .venv/bin/python -m bench.chain --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.benchmark import Benchmark
from bench.chain_rabbit import RabbitCluster, ensure_rabbitmq, publish_refused
from bench.chain_sizes import BacklogSize, Drain, bridge_drain, broker_backlog, outbox_backlog
from bench.fleet_hub import BrokerCounters, HubView, percentile, wait_for
from bench.fleet_nodes import REPO, Fleet, FleetNode, snapshot_head, stop_on_sigterm, uptime_load
from bench.tcp_proxy import CuttableProxy
from edge.demo.broker import LocalBroker, mosquitto_available

if TYPE_CHECKING:
    from bench.chain_consumer import ChainConsumer

SCENARIO_S = 2 * 3600.0
CONSUMER = "chain-consumer"
QUEUE = "chain-shelf-events"
BINDING = "shelf.*.*.events"
PROBE = "probe"  # the store user of the bridge drain probe (routing keys probe.*)


@dataclass(frozen=True, slots=True)
class Fault:
    what: str
    down_s: float
    caught_up_s: float | None  # from `measured_from` until the consumer had every event the outboxes held then
    measured_from: str
    worst_delay_s: float  # the longest an event produced during the fault took from its ts to the consumer
    duplicates: int  # second copies the consumer dropped from the fault's start until it had caught up


@dataclass(frozen=True, slots=True)
class ChainResult:
    stores: int
    nodes_per_store: int
    per_minute: float
    cluster_start_s: float
    faults: tuple[Fault, ...]
    unique_events: int
    duplicates: int  # second copies by event_id, dropped
    redelivered: int  # deliveries RabbitMQ flagged as redelivered (after the consumer's node went away)
    missing: int
    invalid: int
    pending_at_end: int
    consumer_reconnects: int
    latency_p50_s: float  # event ts (the change's end) -> the consumer, over the steady window
    latency_p95_s: float
    store_latency_p50_s: float  # event ts -> the store's own hub subscriber, same events: the baseline
    store_latency_p95_s: float
    store_missing: int  # seqs the store hubs never received (each store hub checks its own store)
    payload_mean_bytes: float
    backlog_sizes: tuple[BacklogSize, ...]
    drain: Drain | None  # a store broker's queued backlog through its bridge into a quorum queue
    stores_isolated: bool  # a store's credentials cannot publish under another store's topics
    load_start: str
    load_end: str
    duration_s: float

    @property
    def zero_loss(self) -> bool:
        return self.missing == 0 and self.invalid == 0 and self.pending_at_end == 0 and self.unique_events > 0


def bridge_conf(store: str, password: str, ports: list[int]) -> list[str]:
    """The store broker's bridge to the chain (docs/scale-out.md explains each line)."""
    return [f"connection chain-{store}", "address " + " ".join(f"127.0.0.1:{p}" for p in ports),
            "round_robin false", "bridge_protocol_version mqttv311", "try_private false",
            f"remote_clientid chain-{store}", f"remote_username {store}", f"remote_password {password}",
            "cleansession false", "keepalive_interval 10", "restart_timeout 1 10",
            "notifications true", "notifications_local_only true", "bridge_attempt_unsubscribe false",
            f"topic shelf/{store}/# out 1"]


def _users(cluster: RabbitCluster, stores: list[str], consumer_password: str) -> dict[str, str]:
    """A user per store, allowed to publish only under its own store's routing keys; the consumer's user."""
    passwords = {store: secrets.token_urlsafe(12) for store in [*stores, PROBE]}
    for store, password in passwords.items():
        cluster.ctl(1, "add_user", store, password)
        cluster.ctl(1, "set_permissions", "-p", "/", store, "^mqtt-subscription-chain-" + store,
                    "^(amq\\.topic|mqtt-subscription-chain-" + store + ".*)$",
                    "^(amq\\.topic|mqtt-subscription-chain-" + store + ".*)$")
        keys = r"^probe\..*$" if store == PROBE else rf"^shelf\.{store}\..*$"  # write and read: its own only
        cluster.ctl(1, "set_topic_permissions", "-p", "/", store, "amq.topic", keys, keys)
    cluster.ctl(1, "add_user", CONSUMER, consumer_password)
    cluster.ctl(1, "set_permissions", "-p", "/", CONSUMER, "^chain-.*", "^chain-.*", "^(chain-.*|amq\\.topic)$")
    return passwords


def run(stores: int = 2, nodes_per_store: int = 3, sps: float = 10.0, per_minute: float = 12.0,
        steady_s: float = 30.0, node_down_s: float = 30.0, cut_s: float = 60.0, tail_s: float = 20.0,
        probe_events: int = 20_000, workdir: Path | None = None, keep: bool = False,
        code: str = "tree") -> ChainResult:
    from bench.chain_consumer import ChainConsumer  # pika (the dev extras): only this benchmark needs it

    ensure_rabbitmq()
    root = Path(tempfile.mkdtemp(prefix="shelf-chain-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    began, load_start = time.monotonic(), uptime_load()
    names = [f"store{i + 1}" for i in range(stores)]
    cluster = RabbitCluster(root / "rabbit")
    fleet = Fleet(root, sps, SCENARIO_S, per_minute, REPO if code == "tree" else snapshot_head(root / "code"))
    proxies: dict[str, list[CuttableProxy]] = {}
    brokers: dict[str, LocalBroker] = {}
    bridges: dict[str, BrokerCounters] = {}
    hubs: dict[str, HubView] = {}
    consumer: ChainConsumer | None = None
    try:
        cluster.start()
        cluster_start_s = time.monotonic() - began
        consumer_password = secrets.token_urlsafe(12)
        passwords = _users(cluster, names, consumer_password)
        consumer = ChainConsumer([n.amqp_port for n in cluster.nodes], CONSUMER, consumer_password, QUEUE, BINDING)
        consumer.declare()  # before any store publishes: amq.topic drops what no queue is bound to
        consumer.start()
        isolated = publish_refused(cluster.nodes[0].mqtt_port, names[0], passwords[names[0]],
                                   f"shelf/{names[-1]}/intruder/events")
        for index, store in enumerate(names):
            order = cluster.nodes[index % len(cluster.nodes):] + cluster.nodes[:index % len(cluster.nodes)]
            proxies[store] = [CuttableProxy(target_port=n.mqtt_port).start() for n in order]
            brokers[store] = LocalBroker(root / store / "broker", extra_conf=bridge_conf(
                store, passwords[store], [p.port for p in proxies[store]])).start()
            hubs[store] = HubView(brokers[store].port, client_id=f"hub-{store}", store=store).start()
            bridges[store] = BrokerCounters(brokers[store].port,
                                            topics=(f"$SYS/broker/connection/chain-{store}/state",)).start()
            for n in range(nodes_per_store):
                fleet.add(store, f"n{n + 1:03d}", 2000 + 100 * index + n, brokers[store].port)
        fleet.start_player()
        for node in fleet.nodes:
            fleet.start(node)
        if not wait_for(lambda: all(consumer.state(n.store, n.name)[0] > 0 for n in fleet.nodes), 240.0, 0.25):
            raise RuntimeError(f"not every node's events reached the consumer within 240 s; see {root}")
        steady = (time.time(), time.time() + steady_s)
        time.sleep(steady_s)
        faults = (_stop_cluster_node(cluster, fleet, consumer, node_down_s),
                  _cut_uplink(proxies[names[-1]], fleet, consumer, names[-1], cut_s))
        time.sleep(tail_s)
        fleet.stop_nodes()
        fleet.stop_player()
        missing, pending = _account(fleet, consumer)
        store_latency = [got - ts for hub in hubs.values() for ts, got in hub.arrivals if steady[0] <= ts <= steady[1]]
        store_missing = sum(n.missing_untracked + len(n.missing) + (n.first_seq or 1) - 1
                            for hub in hubs.values() for n in hub.watcher.tracker.nodes.values())
        with consumer.lock:
            tracker = consumer.tracker
            latency = [got - ts for _, ts, got in consumer.arrivals if steady[0] <= ts <= steady[1]]
            samples = _samples(consumer)
            figures: dict[str, Any] = {
                "unique_events": tracker.unique_events,
                "duplicates": sum(n.duplicates for n in tracker.nodes.values()),
                "invalid": sum(n.invalid for n in tracker.nodes.values()),
                "redelivered": consumer.redelivered, "consumer_reconnects": consumer.reconnects,
                "latency_p50_s": percentile(latency, 0.5), "latency_p95_s": percentile(latency, 0.95),
                "store_latency_p50_s": percentile(store_latency, 0.5),
                "store_latency_p95_s": percentile(store_latency, 0.95), "store_missing": store_missing,
                "payload_mean_bytes": consumer.payload_bytes / max(consumer.deliveries, 1)}
        sizes = (broker_backlog([s[1] for s in samples], probe_events),
                 outbox_backlog([(s[0], s[2]) for s in samples], max(1000, probe_events // 4))) if samples else ()
        drain = bridge_drain(cluster.nodes[1].mqtt_port, cluster.nodes[1].amqp_port,
                             (PROBE, passwords[PROBE]), (CONSUMER, consumer_password), [s[1] for s in samples],
                             probe_events) if samples else None
        return ChainResult(stores=stores, nodes_per_store=nodes_per_store, per_minute=per_minute,
                           cluster_start_s=cluster_start_s, faults=faults, missing=missing, pending_at_end=pending,
                           backlog_sizes=sizes, drain=drain, stores_isolated=isolated, load_start=load_start,
                           load_end=uptime_load(),
                           duration_s=time.monotonic() - began, **figures)
    finally:
        fleet.close()
        if consumer is not None:
            consumer.stop()
        for counters in bridges.values():
            counters.stop()
        for hub in hubs.values():
            hub.stop()
        for broker in brokers.values():
            broker.stop()
        for each in proxies.values():
            for proxy in each:
                proxy.stop()
        cluster.close()
        if workdir is None and not keep:
            shutil.rmtree(root, ignore_errors=True)


def _caught_up(fleet: Fleet, consumer: ChainConsumer, nodes: list[FleetNode], timeout: float = 300.0) -> float | None:
    """Seconds until the consumer holds, for each node, every seq its outbox had handed out when called."""
    began = time.monotonic()
    targets = {(n.store, n.name): n.outbox().last_seq for n in nodes}

    def done() -> bool:
        for (store, name), last in targets.items():
            _, first, seen, missing, _ = consumer.state(store, name)
            if seen is None or seen < last or missing or (first or 1) != 1:
                return False
        return True

    return time.monotonic() - began if wait_for(done, timeout, 0.25) else None


def _stop_cluster_node(cluster: RabbitCluster, fleet: Fleet, consumer: ChainConsumer, down_s: float) -> Fault:
    """Node 1: the first address of store1's bridge and the consumer's first node. Everything must get
    through the other two while it is down: the catch-up is measured before it is started again."""
    duplicates, began = consumer.duplicates(), time.time()
    cluster.stop_node(1)
    time.sleep(down_s)
    caught_up = _caught_up(fleet, consumer, fleet.nodes)
    fault = Fault(f"cluster node {cluster.nodes[0].name} stopped (quorum queue on 2 of 3)", down_s, caught_up,
                  "the end of the down time, the node still down", _worst(consumer, began, began + down_s),
                  consumer.duplicates() - duplicates)
    cluster.start_node(1)
    cluster.await_node(1)  # a cluster member: it rejoins by itself and the quorum queue catches it up
    return fault


def _cut_uplink(proxies: list[CuttableProxy], fleet: Fleet, consumer: ChainConsumer, store: str,
                cut_s: float) -> Fault:
    duplicates, began = consumer.duplicates(), time.time()
    for proxy in proxies:
        proxy.cut()
    time.sleep(cut_s)
    for proxy in proxies:
        proxy.restore()
    caught_up = _caught_up(fleet, consumer, [n for n in fleet.nodes if n.store == store])
    return Fault(f"{store}'s uplink cut (a black hole to every cluster address)", cut_s, caught_up,
                 "the restore", _worst(consumer, began, began + cut_s), consumer.duplicates() - duplicates)


def _worst(consumer: ChainConsumer, start: float, end: float) -> float:
    """The longest delay (ts to the consumer) of the events produced between `start` and `end` (unix s)."""
    with consumer.lock:
        return max((got - ts for _, ts, got in consumer.arrivals if start <= ts <= end), default=float("nan"))


def _account(fleet: Fleet, consumer: ChainConsumer, timeout: float = 120.0) -> tuple[int, int]:
    """(seqs the consumer never received, events left pending) against every outbox after the stop."""
    outboxes = {(n.store, n.name): n.outbox() for n in fleet.nodes}
    wait_for(lambda: all(consumer.state(*key)[2] == box.last_seq for key, box in outboxes.items()), timeout, 0.25)
    missing = pending = 0
    for key, box in outboxes.items():
        _, first, last, gaps, _ = consumer.state(*key)
        pending += box.depth
        missing += box.last_seq if last is None else (first or 1) - 1 + gaps + max(0, box.last_seq - last)
    return missing, pending


def _samples(consumer: ChainConsumer) -> list[tuple[str, bytes, dict[str, Any]]]:
    """Real payloads (one weight, one item event) for the size probes; empty if none arrived."""
    return list(consumer.samples.values())


def render_markdown(result: ChainResult) -> str:
    r = result
    verdict = "**zero loss**" if r.zero_loss else "**LOSS**"
    lines = [
        f"{r.stores} stores, each a mosquitto with {r.nodes_per_store} real daemons (weight-only, shoppers at "
        f"{r.per_minute:g} interactions per minute per shelf), bridged at QoS 1 (MQTT 3.1.1) to a 3-node "
        f"RabbitMQ cluster's MQTT plugin; the consumer reads the durable quorum queue `{QUEUE}` bound to "
        f"`amq.topic` with `{BINDING}`. Load average (1 / 5 / 15 min): {r.load_start} at the start, {r.load_end} "
        f"at the end; {r.duration_s / 60:.1f} minutes in all, {r.cluster_start_s:.0f} s of it starting the cluster.",
        "",
        "| figure | value |", "|---|---|",
    ]
    for fault in r.faults:
        caught = "not within 300 s" if fault.caught_up_s is None else f"{fault.caught_up_s:.1f} s"
        lines.append(f"| {fault.what}, {fault.down_s:g} s: the consumer had every event after (from "
                     f"{fault.measured_from}); the longest an event made then took | {caught}; "
                     f"{fault.worst_delay_s:.1f} s ({fault.duplicates} duplicates) |")
    lines += [
        f"| distinct events at the consumer; duplicates dropped by event_id; redelivered by RabbitMQ | "
        f"{r.unique_events}; {r.duplicates}; {r.redelivered} |",
        f"| seqs missing, invalid payloads, pending in outboxes after the stop | {r.missing}, {r.invalid}, "
        f"{r.pending_at_end}: {verdict} |",
        f"| consumer reconnects (its node stopped) | {r.consumer_reconnects} |",
        f"| store1's credentials publishing under another store's topic | "
        f"{'refused' if r.stores_isolated else '**accepted**'} |",
        f"| no fault: from the change's end (the event's ts) to the chain's consumer (p50 / p95) | "
        f"{r.latency_p50_s:.2f} / {r.latency_p95_s:.2f} s |",
        f"| the same events to the store's own hub subscriber (p50 / p95): the baseline | "
        f"{r.store_latency_p50_s:.2f} / {r.store_latency_p95_s:.2f} s |",
        f"| seqs missing at the store hubs | {r.store_missing} |",
        f"| mean event payload | {r.payload_mean_bytes:.0f} bytes |",
    ]
    for size in r.backlog_sizes:
        memory = "" if size.bytes_per_event_memory is None else f"{size.bytes_per_event_memory:.0f} B RSS, "
        lines.append(f"| backlog in the {size.part}, {size.events} events | {memory}"
                     f"{size.bytes_per_event_disk:.0f} B on disk per event |")
    if r.drain is not None:
        rate = "not all within 300 s" if r.drain.per_s is None else f"{r.drain.per_s:.0f} events/s"
        lines.append(f"| a queued backlog of {r.drain.events} events through one bridge into a quorum queue, "
                     f"loopback | {rate} |")
    return "\n".join(lines) + "\n"


def unavailable() -> str | None:
    """run() installs Debian's rabbitmq-server with apt when it is missing; mosquitto and pika must be there."""
    if importlib.util.find_spec("pika") is None:
        return "needs pika (.venv/bin/pip install -e '.[dev]')"
    return None if mosquitto_available() else "needs mosquitto (apt-get install mosquitto)"


BENCHMARK = Benchmark(
    name="chain",
    title="a chain: store brokers bridged to a 3-node RabbitMQ cluster, quorum-queue consumer, faults, zero loss",
    run=run,
    render=render_markdown,
    quick={"stores": 2, "nodes_per_store": 2, "steady_s": 10.0, "node_down_s": 15.0, "cut_s": 20.0,
           "tail_s": 10.0, "probe_events": 5_000},
    full={},
    opt_in=True,
    detail="scale-out.md",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--nodes-per-store", type=int, default=3)
    parser.add_argument("--cut", type=float, default=60.0, help="seconds the last store's uplink is cut")
    parser.add_argument("--workdir", type=Path, help="keep every file here (default: a temp dir, removed)")
    parser.add_argument("--code", choices=("tree", "head"), default="tree",
                        help="run the daemons from the working tree (default) or from a snapshot of git HEAD")
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    result = run(args.stores, args.nodes_per_store, cut_s=args.cut, workdir=args.workdir, code=args.code)
    sys.stdout.write(render_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=1) + "\n", encoding="utf-8")
    return 0 if result.zero_loss else 1


if __name__ == "__main__":
    raise SystemExit(main())
