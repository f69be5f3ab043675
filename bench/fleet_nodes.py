"""A store's fleet of real daemons for the fleet and chain benchmarks: node directories, the shelf player,
the `shelf-node run` processes, and their CPU and memory read from /proc.

Every process is started in its own process group and `Fleet.close()` (also on a failure: use it as a
context manager) ends each of them by its pid: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from edge.config import NodeConfig, load_config
from edge.demo.setup import install_factory_calibration
from edge.outbox import open_outbox
from edge.outbox.status import OutboxStatus
from edge.sim.fleet_player import shopper_scenario
from edge.sim.layout import ShelfLayout
from edge.sim.planogram_doc import planogram_document

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PLAYER_READY_S = 60.0
STOP_GRACE_S = 20.0  # the daemon is done within ~7 s of SIGTERM (docs/node.md, "Stop")


def node_config_text(store: str, node: str, workdir: Path, broker_port: int, extra: str = "") -> str:
    """A weight-only node: 4 channels, 2 plates, the store broker, its own state dir and pty link."""
    return f"""[node]
store_id = "{store}"
node_id = "{node}"
state_dir = "{workdir / 'state'}"

[serial]
port = "{workdir / 'shelf-tty'}"
protocol = "framed"
channels = 4

[[plates]]
name = "p1"
channels = [0, 1]

[[plates]]
name = "p2"
channels = [2, 3]

[mqtt]
host = "127.0.0.1"
port = {broker_port}
stats_interval_s = 60

[fusion]
planogram = "{workdir / 'planogram.json'}"
{extra}"""


@dataclass
class FleetNode:
    store: str
    name: str
    workdir: Path
    seed: int
    config_path: Path
    config: NodeConfig
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def outbox(self) -> OutboxStatus:
        """The outbox's counters, read from its file (the daemon stopped, or running: SQLite WAL readers)."""
        outbox = open_outbox(self.config)
        try:
            return outbox.status()
        finally:
            outbox.close()


def prepare_node(store: str, name: str, root: Path, seed: int, broker_port: int, duration_s: float,
                 per_minute: float, extra: str = "") -> FleetNode:
    """The node's directory: config, state dir with the factory calibration of its simulated shelf, planogram."""
    workdir = root / store / name
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "node.toml"
    path.write_text(node_config_text(store, name, workdir, broker_port, extra), encoding="utf-8")
    config = load_config(path)
    layout = ShelfLayout.from_config(config, seed)
    install_factory_calibration(config, layout)
    scenario = shopper_scenario(seed, duration_s, layout.plate_names(), per_minute)
    (workdir / "planogram.json").write_text(json.dumps(planogram_document(scenario), indent=1), encoding="utf-8")
    return FleetNode(store, name, workdir, seed, path, config)


@dataclass
class Fleet:
    """The player and the daemons of one or more stores; `close()` ends every process it started."""

    root: Path
    sps: float
    duration_s: float
    per_minute: float
    code: Path = REPO  # where `python -m edge` runs from: the working tree, or a snapshot (`snapshot_head`)
    nodes: list[FleetNode] = field(default_factory=list)
    player: subprocess.Popen[bytes] | None = None
    _player_log: IO[bytes] | None = None

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, store: str, name: str, seed: int, broker_port: int, extra: str = "") -> FleetNode:
        node = prepare_node(store, name, self.root, seed, broker_port, self.duration_s, self.per_minute, extra)
        self.nodes.append(node)
        return node

    def start_player(self) -> None:
        manifest = {"sps": self.sps, "duration_s": self.duration_s, "per_minute": self.per_minute,
                    "ready": "player.ready", "summary": "player.json",
                    "shelves": [{"config": str(n.config_path.relative_to(self.root)), "seed": n.seed,
                                 "link": str((n.workdir / "shelf-tty").relative_to(self.root)),
                                 "truth": str((n.workdir / "truth.jsonl").relative_to(self.root))}
                                for n in self.nodes]}
        path = self.root / "player-manifest.json"
        path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        (self.root / "player.ready").unlink(missing_ok=True)
        self._player_log = (self.root / "player.log").open("wb")
        self.player = subprocess.Popen([sys.executable, "-m", "edge.sim.fleet_player", str(path)], cwd=self.code,
                                       stdout=self._player_log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + PLAYER_READY_S
        while not (self.root / "player.ready").exists():
            if self.player.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the shelf player did not start; see {self.root / 'player.log'}")
            time.sleep(0.1)

    def start(self, node: FleetNode) -> None:
        if node.log is None:
            node.log = (node.workdir / "node.log").open("ab")
        node.proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(node.config_path)],
                                     cwd=self.code, stdout=node.log, stderr=subprocess.STDOUT, start_new_session=True)
        node.starts += 1

    def kill(self, node: FleetNode) -> None:
        """kill -9: nothing flushed, nothing said to the broker (it publishes the Will)."""
        if node.proc is not None and node.proc.poll() is None:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(timeout=10)

    def stop_nodes(self) -> dict[str, int | None]:
        """SIGTERM every daemon at once, wait for each (SIGKILL after the grace); name -> exit status."""
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        return {f"{node.store}/{node.name}": _reap(node.proc) for node in self.nodes}

    def stop_player(self) -> dict[str, object]:
        """SIGTERM the player; its summary (lines sent and lost, interactions per shelf)."""
        _reap(self.player, signal.SIGTERM)
        path = self.root / "player.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def close(self) -> None:
        self.stop_nodes()
        _reap(self.player, signal.SIGTERM)
        for node in self.nodes:
            if node.log is not None:
                node.log.close()
                node.log = None
        if self._player_log is not None:
            self._player_log.close()
            self._player_log = None


def stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread: the run's finally blocks then stop every process it
    started (a plain SIGTERM would leave the daemons, brokers and players running)."""
    signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def snapshot_head(dest: Path) -> Path:
    """The committed `edge/` package (git HEAD) extracted under `dest`: daemons run from it, so files other
    people are editing in the working tree at that moment cannot break a long run."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "edge"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def _reap(proc: subprocess.Popen[bytes] | None, sig: signal.Signals | None = None) -> int | None:
    if proc is None:
        return None
    if proc.poll() is None and sig is not None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own group (start_new_session): it and anything it forked
        return proc.wait(timeout=10)


@dataclass(frozen=True)
class ProcSample:
    """One process's CPU time (s) and resident memory (bytes) at a moment (monotonic seconds)."""

    at: float
    cpu_s: float
    rss_bytes: int


def sample(pid: int) -> ProcSample | None:
    """From /proc/<pid>/stat (utime + stime) and /proc/<pid>/statm; None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return ProcSample(time.monotonic(), cpu, int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE"))


def cpu_percent(before: ProcSample, after: ProcSample) -> float:
    """Share of one core between two samples, in percent."""
    return 100.0 * (after.cpu_s - before.cpu_s) / max(after.at - before.at, 1e-9)


def uptime_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
