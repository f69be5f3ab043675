"""The soak: the real daemon for N minutes under a schedule of faults, then the verdicts (issue 16).

    result = run(minutes=30)            # scripts/soak --minutes 30; opt-in: never in the all-run
    print(render_markdown(result))

The rig (`bench/soak_rig.py`): a local mosquitto behind a proxy the soak cuts (`bench/tcp_proxy.py`), the
simulator on a pty playing a generated shelf (picks, puts, restocks, leans, bumps and its own line faults),
a rendered camera writing frames, the state directory on a small tmpfs, the daemon's wall clock shifted by
a shim (`bench/wallclock.py`), a hub subscriber. The faults (`bench/soak_faults.py`) repeat in cycles.
At the end: every true interaction at the hub (`bench/soak_accounting.py`), each fault seen by its health
counter (count, and the time until `status` showed it), RSS / fds / threads fitted over the second half,
the daemon stopped by SIGTERM within its budget, and no process left behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.benchmark import Benchmark
from bench.soak_accounting import Accounting, Trend, account, trend
from bench.soak_faults import BY_NAME, FaultInjector, Injection, counter, schedule
from bench.soak_report import render_markdown
from bench.soak_rig import RigSettings, SoakRig
from edge.demo.broker import mosquitto_available

log = logging.getLogger(__name__)

SAMPLE_S = 2.0
WARMUP_S = 20.0  # the daemon starts and the weigher warms up before the first fault
DRAIN_S = 90.0  # after the last fault: the outbox empties, the hub fills its gaps
STOP_BUDGET_S = 20.0  # systemd's TimeoutStopSec
QUIET_COUNTERS = ("parts.weighing.serial_outages", "parts.serial.port.outages", "parts.vision.dropouts",
                  "mqtt.reconnects")


@dataclass(frozen=True)
class FaultVerdict:
    kind: str
    what: str
    injected: int
    per_injection: int  # the counter's rise each injection causes at least (a clock jump and its return: 2)
    skipped: str | None
    counter: str | None  # the counter that must tell (None: nothing may change)
    counter_delta: float | None  # its rise over the whole run
    detected: int  # injections the counter showed
    absorbed: int  # ... it did not show because nothing failed (disk full: the outbox still stored events)
    latency_s: tuple[float, ...]  # seconds from each injection to the status sample that showed it
    quiet_violations: tuple[str, ...]  # for the no-counter kinds: what changed that should not have


@dataclass(frozen=True)
class SoakResult:
    minutes: float
    seed: int
    detector: bool
    started_utc: str
    load_before: str
    load_after: str
    faults: tuple[FaultVerdict, ...]
    accounting: Accounting
    hub: dict[str, Any]  # the tracker's summary of the node: events, duplicates, missing seqs, invalid
    trends: tuple[Trend, ...]
    rss_mb_first_last: tuple[float, float]
    cpu_percent: float  # of one core, averaged over the run
    stop_s: float  # SIGTERM to exit
    daemon_exit: int | None
    leftovers: tuple[str, ...]  # processes still there after the rig stopped
    final_status: dict[str, Any] = field(default_factory=dict)
    log_lines: dict[str, int] = field(default_factory=dict)  # warnings / errors / tracebacks in the daemon log
    workdir: str = ""

    @property
    def ok(self) -> bool:
        return (self.accounting.ok and not self.leftovers and all(t.flat for t in self.trends)
                and all(f.skipped or f.detected + f.absorbed == f.injected for f in self.faults if f.counter)
                and all(not f.quiet_violations for f in self.faults) and self.daemon_exit == 0
                and self.hub.get("missing_count", 1) == 0 and self.hub.get("invalid", 1) == 0)


@dataclass
class Sample:
    t: float
    rss_kb: float
    fds: int
    threads: int
    cpu_ticks: float
    status: dict[str, Any] | None


def process_figures(pid: int) -> tuple[float, int, int, float] | None:
    """(RSS kB, open fds, threads, utime+stime ticks) of a live process, from /proc."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":" in line)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return float(fields["VmRSS"].split()[0]), fds, int(fields["Threads"]), float(stat[11]) + float(stat[12])


def leftover_processes(workdir: Path, pids: set[int]) -> list[str]:
    """Processes named by pid (the daemon, the broker) or whose command line mentions the work directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (int(entry.name) in pids or str(workdir) in cmdline):
            found.append(f"{entry.name}: {cmdline[:160]}")
    return found


def _sampler(rig: SoakRig, samples: list[Sample], stop: threading.Event) -> None:
    while not stop.wait(SAMPLE_S):
        if rig.daemon is None or rig.daemon.poll() is not None:
            continue
        figures = process_figures(rig.daemon.pid)
        if figures is not None:
            samples.append(Sample(time.time(), *figures, rig.status()))


def _verdicts(injector: FaultInjector, samples: list[Sample]) -> tuple[FaultVerdict, ...]:
    with_status = [s for s in samples if s.status is not None]
    verdicts = []
    for kind in BY_NAME.values():
        done = [i for i in injector.done if i.kind == kind.name]
        if not done:
            continue
        skipped = next((i.skipped for i in done if i.skipped), None)
        latencies: list[float] = []
        quiet: list[str] = []
        absorbed = 0
        for injection in done:
            _detect(injection, kind.shown_by or kind.counter, with_status, falls=kind.shown_by is not None)
            if injection.detected_after_s is not None:
                latencies.append(round(injection.detected_after_s, 1))
            elif kind.absorbed_by and injection.skipped is None and _rose(injection, kind.absorbed_by, with_status):
                absorbed += 1
            if kind.quiet and injection.skipped is None:
                quiet += _quiet_violations(injection, with_status)
        delta = None
        if kind.counter and with_status:
            first, last = counter(with_status[0].status, kind.counter), counter(with_status[-1].status, kind.counter)
            delta = None if first is None or last is None else last - first
        verdicts.append(FaultVerdict(kind.name, kind.what, sum(1 for i in done if not i.skipped), kind.per_injection,
                                     skipped, kind.counter, delta, len(latencies), absorbed, tuple(latencies),
                                     tuple(quiet)))
    return tuple(verdicts)


def _detect(injection: Injection, path: str | None, samples: list[Sample], falls: bool = False) -> None:
    """The first sample after the start where the counter rose (or the flag dropped: `falls`)."""
    if path is None or injection.skipped:
        return
    before = injection.before
    for sample in samples:
        if sample.t < injection.started or sample.t > injection.ended + 60:
            continue
        value = counter(sample.status, path)
        if value is not None and (before is None or (value < before if falls else value > before)):
            injection.detected_after_s = sample.t - injection.started
            return


def _rose(injection: Injection, path: str, samples: list[Sample]) -> bool:
    """`path` rose while the fault was on (the node went on doing what the fault should have stopped)."""
    window = [counter(s.status, path) for s in samples if injection.started <= s.t <= injection.ended]
    values = [v for v in window if v is not None]
    return len(values) >= 2 and values[-1] > values[0]


def _quiet_violations(injection: Injection, samples: list[Sample]) -> list[str]:
    window = [s for s in samples if injection.started - SAMPLE_S * 1.5 <= s.t <= injection.ended + 15]
    if len(window) < 2:
        return []
    changed = []
    for path in QUIET_COUNTERS:
        a, b = counter(window[0].status, path), counter(window[-1].status, path)
        if a is not None and b is not None and b > a:
            changed.append(f"{injection.kind} at {injection.planned_at_s:.0f} s: {path} +{b - a:g}")
    return changed


BACKLOG_S = 300.0  # an event reaches the hub at most this long after it was made (outbox backlog after a fault)


def _real_times(shifts: list[tuple[float, float]]) -> Any:
    """real_times(t, received_at): `t` less each clock offset in force while the event may have been made (the
    weigher stamps events on the wall clock of the moment it emits them), i.e. in the BACKLOG_S before the
    hub received it; every offset the run used when the receipt time is not known."""
    segments = [(since, shifts[i + 1][0] if i + 1 < len(shifts) else float("inf"), offset)
                for i, (since, offset) in enumerate(shifts)]

    def real_times(t: float, received_at: float | None = None) -> list[float]:
        if received_at is None:
            return sorted({t - offset for _, _, offset in segments})
        return sorted({t - offset for since, until, offset in segments
                       if since <= received_at and until >= received_at - BACKLOG_S})

    return real_times


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(minutes: float = 30.0, seed: int = 3, detector: bool = False, cycle_s: float | None = None,
        workdir: Path | None = None) -> SoakResult:
    """The soak; `cycle_s` (default: 6 min, or the whole run when shorter) is the fault cycle's length."""
    duration_s = minutes * 60.0
    cycle = cycle_s or min(360.0, max(60.0, duration_s - WARMUP_S))
    workdir = workdir or Path(f"/tmp/shelf-soak-{os.getpid()}")
    settings = RigSettings(seed=seed, scenario_s=duration_s + WARMUP_S + DRAIN_S + 120.0, detector=detector)
    rig = SoakRig(workdir, settings)
    samples: list[Sample] = []
    stop = threading.Event()
    load_before = _load()
    started_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    pids: set[int] = set()
    try:
        rig.start()
        assert rig.daemon is not None and rig.broker.proc is not None
        pids = {rig.daemon.pid, rig.broker.proc.pid}
        sampler = threading.Thread(target=_sampler, args=(rig, samples, stop), name="soak-sampler", daemon=True)
        sampler.start()
        t0 = time.time() + WARMUP_S
        injector = FaultInjector(rig)
        floors = {"camera_loss": 8.0, "network_cut": 3.0 * settings.keepalive_s, "disk_full": 15.0,
                  "unplug": 3.0, "broker_kill": 4.0}
        plan = schedule(duration_s - WARMUP_S, cycle, floors)
        injector.run(plan, t0, stop.is_set, stop.wait)
        remaining = t0 + duration_s - WARMUP_S - time.time()
        if remaining > 0:
            stop.wait(remaining)
        play_end = time.time()
        _drain(rig)
        final = rig.status() or {}
        stop.set()
        sampler.join(timeout=10)
        if rig.broker.proc is not None:
            pids.add(rig.broker.proc.pid)
        stop_started = time.monotonic()
        exit_code = rig.stop_daemon(STOP_BUDGET_S)
        stop_s = time.monotonic() - stop_started
        assert rig.hub is not None and rig.shelf is not None
        rig.hub.wait_for(lambda t: all(n.state == "stopped" for n in t.nodes.values()), 10)
        truth = [r for r in rig.shelf.truth() if _ready_at(samples) <= r.t_start
                 and r.t_settled <= play_end - AFTER_PLAY_S]
        with rig.hub._changed:
            events = [{**r.payload, "_received_at": r.received_at} for r in rig.hub.records
                      if r.type == "event" and r.note != "duplicate"]
            hub_summary = rig.hub.tracker.summary()["nodes"]
        accounting = account(truth, events, _real_times(injector.clock_shifts))
        verdicts = _verdicts(injector, samples)
        _keep(workdir, events, samples, injector)
    finally:
        stop.set()
        rig.stop()
    leftovers = leftover_processes(workdir, pids)
    return SoakResult(
        minutes=minutes, seed=seed, detector=detector, started_utc=started_utc, load_before=load_before,
        load_after=_load(), faults=verdicts, accounting=accounting, hub=hub_summary[0] if hub_summary else {},
        trends=_trends(samples), rss_mb_first_last=(samples[0].rss_kb / 1024, samples[-1].rss_kb / 1024),
        cpu_percent=_cpu(samples), stop_s=round(stop_s, 2), daemon_exit=exit_code, leftovers=tuple(leftovers),
        final_status={k: final.get(k) for k in ("health", "mqtt", "outbox", "parts")},
        log_lines=_log_counts(rig.log_path), workdir=str(workdir))


AFTER_PLAY_S = 15.0  # interactions settling in the last seconds may still be in the weigher at the stop


def _ready_at(samples: list[Sample]) -> float:
    """When the daemon's weigher had measured the sample rate and every plate had its level (interactions
    before that are its warm-up's, not the soak's)."""
    for sample in samples:
        weighing = (sample.status or {}).get("parts", {}).get("weighing") or {}
        plates = (weighing.get("plates") or {}).values()
        if weighing.get("samples_per_s") and plates and all(p.get("state") != "warmup" for p in plates):
            return sample.t
    return float("inf")


def _keep(workdir: Path, events: list[dict[str, Any]], samples: list[Sample], injector: FaultInjector) -> None:
    """The raw material of the verdicts, beside the daemon's log, for a look after the run."""
    with (workdir / "hub-events.jsonl").open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event) + "\n")
    with (workdir / "samples.jsonl").open("w", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(sample.__dict__) + "\n")
    (workdir / "injections.json").write_text(json.dumps([i.to_json() for i in injector.done], indent=1))


def _drain(rig: SoakRig) -> None:
    """Wait until the outbox is empty and the hub has every seq (at most DRAIN_S)."""
    assert rig.hub is not None
    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline:
        status = rig.status() or {}
        depth = counter(status, "outbox.depth")
        summary = rig.hub.tracker.summary()["nodes"]
        if depth == 0 and summary and summary[0]["missing_count"] == 0:
            return
        time.sleep(1.0)


def _trends(samples: list[Sample]) -> tuple[Trend, ...]:
    t0 = samples[0].t if samples else 0.0
    return (trend("RSS", "MB", [(s.t - t0, s.rss_kb / 1024) for s in samples], 2.0),
            trend("open fds", "fds", [(s.t - t0, s.fds) for s in samples], 1.0),
            trend("threads", "threads", [(s.t - t0, s.threads) for s in samples], 1.0))


def _cpu(samples: list[Sample]) -> float:
    if len(samples) < 2:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return round(100.0 * (samples[-1].cpu_ticks - samples[0].cpu_ticks) / ticks / (samples[-1].t - samples[0].t), 1)


def _log_counts(path: Path) -> dict[str, int]:
    text = path.read_text(errors="replace") if path.exists() else ""
    lines = text.splitlines()
    return {"lines": len(lines), "warning": sum(" WARNING " in line for line in lines),
            "error": sum(" ERROR " in line for line in lines), "traceback": text.count("Traceback (most recent")}


def _unavailable() -> str | None:
    if not mosquitto_available():
        return "needs mosquitto (apt-get install mosquitto)"
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        return "needs gcc for the wall-clock shim (apt-get install gcc)"
    return None


BENCHMARK = Benchmark(
    name="soak", title="the daemon under a schedule of faults: nothing lost, every fault told, no growth",
    run=run, render=render_markdown, quick={"minutes": 3.0}, full={"minutes": 30.0}, opt_in=True,
    detail="bench/soak.md", unavailable=_unavailable)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """scripts/soak: run, print the markdown, write it to --out; exit 0 only when every verdict passes."""
    import argparse

    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the run (default 30)")
    parser.add_argument("--seed", type=int, default=3, help="the simulated shelf's seed (default 3)")
    parser.add_argument("--detector", action="store_true", help="run the real SSD model on the frames")
    parser.add_argument("--cycle-s", type=float, default=None, help="length of one fault cycle (default 360 s)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the rig's files go (default /tmp)")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args(argv)
    # started in the background (nohup, a CI job) SIGINT may be ignored: both signals end the run, cleaning up
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = run(args.minutes, args.seed, args.detector, args.cycle_s, args.workdir)
    text = render_markdown(result)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
