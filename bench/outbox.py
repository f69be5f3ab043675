"""The durable outbox: append cost (fsync) and backlog drain to a local mosquitto.

Every figure is reported next to a baseline measured in the same run on the same machine:
  append: Outbox.append (WAL, synchronous=FULL, one transaction per event) vs a bare SQLite
          insert with synchronous=OFF and vs an fsync'd append to a plain file;
  drain:  the node's link draining N queued events (PUBACK per event, rows deleted) vs a bare
          paho client publishing N QoS 1 messages of the same size with the same in-flight window.
Peak memory is the drain process's max RSS (each drain runs in its own child process).

    scripts/bench outbox                                        # 100,000-event drain, 2,000 appends
    .venv/bin/python -m bench.outbox --events 500 --appends 30  # all options: --help
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.benchmark import Benchmark
from edge.demo.broker import MOSQUITTO, LocalBroker, mosquitto_available
from edge.demo.publisher import weight_body
from edge.outbox import Outbox

REPO = Path(__file__).resolve().parents[1]

WINDOW = 16


def bench_append(workdir: Path, count: int) -> dict[str, float]:
    body = weight_body(1, ["p1", "p2"])
    text = json.dumps(body)
    box = Outbox(workdir / "append.sqlite3")
    start = time.perf_counter()
    for _ in range(count):
        box.append("weight", body, time.time())
    outbox_s = time.perf_counter() - start
    box.close()

    bare = sqlite3.connect(workdir / "bare.sqlite3", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=OFF")
    bare.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT, produced_at REAL, body TEXT)")
    start = time.perf_counter()
    for _ in range(count):
        bare.execute("INSERT INTO events (event_id, produced_at, body) VALUES (?, ?, ?)",
                     (str(uuid.uuid4()), time.time(), text))
    bare_s = time.perf_counter() - start
    bare.close()

    fd = os.open(workdir / "fsync.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    line = (text + "\n").encode()
    start = time.perf_counter()
    for _ in range(count):
        os.write(fd, line)
        os.fsync(fd)
    fsync_s = time.perf_counter() - start
    os.close(fd)
    return {"outbox_us": outbox_s / count * 1e6, "bare_sqlite_sync_off_us": bare_s / count * 1e6,
            "file_append_fsync_us": fsync_s / count * 1e6}


def fill_outbox(path: Path, count: int) -> None:
    """Queue `count` events fast (setup only: one transaction), in the outbox's own schema."""
    Outbox(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    now = time.time() - 60
    rows = ((seq, str(uuid.uuid4()), "weight", now, json.dumps(weight_body(seq, ["p1", "p2"])))
            for seq in range(1, count + 1))
    db.executemany("INSERT INTO events (seq, event_id, kind, produced_at, body) VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (str(count + 1),))
    db.execute("COMMIT")
    db.close()


def run_child(args: list[str], workdir: Path) -> tuple[str, float, int]:
    """Run a child Python process; returns (stdout, wall seconds, that child's own peak RSS in bytes)."""
    with (workdir / "child.stderr").open("w+") as errors:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of this child alone
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"bench.outbox: child failed: {errors.read()[-2000:]}")
    return out, wall, usage.ru_maxrss * 1024


BARE_PUBLISHER = r"""
import sys, time, json, threading
import paho.mqtt.client as paho
sys.path.insert(0, sys.argv[3])
from edge.demo.publisher import weight_body
from edge.mqtt.envelope import encode, event_payload
from edge.outbox.store import OutboxRow
port, count, window = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
row = OutboxRow(12345, "0b3c1d2e-0000-4000-8000-000000000000", "weight", time.time(), weight_body(1, ["p1", "p2"]))
payload = encode(event_payload(row, "bench", "n1", 1, True))  # same size as the node's events
done = threading.Event(); acked = [0]
room = threading.Semaphore(window)  # same back-pressure as the node: at most `window` unacknowledged
def on_publish(c, u, mid, rc, p):
    acked[0] += 1
    room.release()
    if acked[0] == count: done.set()
c = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
c.max_inflight_messages_set(window)
c.max_queued_messages_set(0)
c.on_publish = on_publish
c.connect("127.0.0.1", port); c.loop_start()
start = time.monotonic()
for _ in range(count):
    room.acquire()
    c.publish("bench/bare", payload, qos=1)
done.wait(600)
print(f"elapsed {time.monotonic() - start:.3f}")
c.disconnect(); c.loop_stop()
"""


def bench_drain(workdir: Path, port: int, count: int) -> dict[str, float]:
    state = workdir / "state"
    fill_outbox(state / "outbox.sqlite3", count)
    config = workdir / "node.toml"
    config.write_text(f"""[node]
store_id = "bench"
node_id = "n1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 2
[[plates]]
name = "p1"
channels = [0]
[[plates]]
name = "p2"
channels = [1]
[mqtt]
port = {port}
replay_rate = 1000000000.0
inflight_window = {WINDOW}
""")
    out, _, peak = run_child(["-m", "edge", "demo", "publish", "--config", str(config), "--until-drained", "900"],
                             workdir)
    if "drained" not in out.splitlines():
        raise RuntimeError(f"bench.outbox: outbox did not drain: {out}")
    drain_s = float(out.split("elapsed ")[1].split()[0])
    bare_out, _, bare_peak = run_child(["-c", BARE_PUBLISHER, str(port), str(count), str(REPO), str(WINDOW)],
                                     workdir)
    bare_s = float(bare_out.split("elapsed ")[1].split()[0])
    return {"events": count, "drain_s": drain_s, "drain_events_per_s": count / drain_s,
            "drain_peak_rss_mb": peak / 2**20, "bare_paho_s": bare_s, "bare_paho_events_per_s": count / bare_s,
            "bare_paho_peak_rss_mb": bare_peak / 2**20}


@dataclass(frozen=True, slots=True)
class OutboxResult:
    append_count: int
    outbox_us: float  # Outbox.append, per event
    bare_sqlite_sync_off_us: float  # baseline: bare SQLite insert, synchronous=OFF
    file_append_fsync_us: float  # baseline: fsync'd append to a plain file
    events: int  # drained
    drain_s: float
    drain_events_per_s: float
    drain_peak_rss_mb: float
    bare_paho_s: float  # baseline: bare paho QoS 1, same window, same payload size
    bare_paho_events_per_s: float
    bare_paho_peak_rss_mb: float

    @property
    def append_vs_bare_sqlite(self) -> float:
        return self.outbox_us / self.bare_sqlite_sync_off_us

    @property
    def append_vs_file_fsync(self) -> float:
        return self.outbox_us / self.file_append_fsync_us

    @property
    def drain_vs_bare_paho(self) -> float:
        return self.drain_events_per_s / self.bare_paho_events_per_s


def unavailable() -> str | None:
    return None if mosquitto_available() else f"needs mosquitto at {MOSQUITTO}"


def run(events: int = 100_000, appends: int = 2000) -> OutboxResult:
    missing = unavailable()
    if missing:
        raise RuntimeError(f"bench.outbox: {missing}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    broker = LocalBroker(workdir / "broker", persistence=False).start()
    try:
        append = bench_append(workdir, appends)
        drain = bench_drain(workdir, broker.port, events)
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return OutboxResult(
        append_count=appends, outbox_us=append["outbox_us"], bare_sqlite_sync_off_us=append["bare_sqlite_sync_off_us"],
        file_append_fsync_us=append["file_append_fsync_us"], events=events, drain_s=drain["drain_s"],
        drain_events_per_s=drain["drain_events_per_s"], drain_peak_rss_mb=drain["drain_peak_rss_mb"],
        bare_paho_s=drain["bare_paho_s"], bare_paho_events_per_s=drain["bare_paho_events_per_s"],
        bare_paho_peak_rss_mb=drain["bare_paho_peak_rss_mb"],
    )


def render_markdown(result: OutboxResult) -> str:
    r = result
    return "\n".join([
        f"{r.append_count:,} timed appends; a backlog of {r.events:,} events drained to a local mosquitto "
        "(QoS 1, 16 in flight).", "",
        "| measure | ours | baseline, same run | ours / baseline |", "|---|---|---|---|",
        f"| append, per event | Outbox.append (WAL, synchronous=FULL): {r.outbox_us:.0f} us | fsync'd plain-file "
        f"append: {r.file_append_fsync_us:.0f} us | {r.append_vs_file_fsync:.2f}x the time |",
        f"| append, per event | (same) | bare SQLite insert, synchronous=OFF: {r.bare_sqlite_sync_off_us:.0f} us | "
        f"{r.append_vs_bare_sqlite:.1f}x the time |",
        f"| drain rate | {r.drain_events_per_s:,.0f} events/s ({r.drain_s:.1f} s) | bare paho QoS 1: "
        f"{r.bare_paho_events_per_s:,.0f} events/s | {r.drain_vs_bare_paho:.2f} of its rate |",
        f"| drain peak RSS | {r.drain_peak_rss_mb:.0f} MiB | {r.bare_paho_peak_rss_mb:.0f} MiB | |",
    ]) + "\n"  # fmt: skip


BENCHMARK = Benchmark(
    name="outbox",
    title="outbox and MQTT drain: durable append and backlog drain, against bare SQLite, fsync and paho",
    run=run,
    render=render_markdown,
    quick={"events": 5000, "appends": 200},
    full={"events": 100_000, "appends": 2000},
    detail="bench/mqtt.md",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to drain")
    parser.add_argument("--appends", type=int, default=2000, help="appends to time")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of markdown")
    args = parser.parse_args(argv)
    missing = unavailable()
    if missing:
        print(f"bench.outbox: {missing}", file=sys.stderr)
        return 1
    result = run(args.events, args.appends)
    print(json.dumps(asdict(result), indent=2) if args.json else render_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
