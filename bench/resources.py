"""Resources of the whole daemon as a store runs it: the real model (../shared/models), the rendered camera's
live frames, an 8-channel shelf at 80 SPS, a private mosquitto (bench/live_node.py). One daemon, two phases:
an idle shelf, then a busy one (an interaction every `every_s`, picks and put-backs plate after plate, which the
camera renders with the hands). From /proc/<daemon pid>: CPU share of one core (user + system time over the
phase's wall time), RSS (sampled; VmHWM for the peak over the whole run, start-up included), threads and file
descriptors. Targets on this machine: idle < 5 % of one core, busy < 1 core, RSS < 250 MB. The same-run baseline:
then the same daemon, shelf and phases without the camera (`baseline=False` / `--no-baseline` skips it).

    scripts/bench resources [--quick]          .venv/bin/python -m bench.resources --idle 60 --busy 60
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.benchmark import Benchmark
from bench.live_node import LiveRig, RigError
from edge.demo.broker import mosquitto_available
from edge.sim.camera.photos import DEFAULT_IMAGES
from edge.sim.scenario import Action, Scenario

MODEL = Path(__file__).resolve().parents[1].parent / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"
WARM_S = 30.0  # scenario seconds before the idle phase: the daemon starts, loads the model, warms up the weigher
SAMPLE_S = 0.5
TARGETS = {"idle": 0.05, "busy": 1.0}  # CPU share of one core
TARGET_RSS_MB = 250.0
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # monotonic
    cpu_s: float  # user + system seconds since the process started
    rss_mb: float
    threads: int
    fds: int
    lines_lost: int = 0  # the shelf's count so far


@dataclass(frozen=True, slots=True)
class Phase:
    name: str  # idle | busy
    seconds: float
    cpu_share: float  # of one core
    rss_mb_max: float
    threads_max: int
    fds_max: int
    interactions: int  # shopper actions the scenario played in the phase
    item_events: int  # item events the hub received in the phase
    lines_lost: int  # serial lines the simulated MCU lost in the phase (the node did not read in time)

    @property
    def met(self) -> bool:
        return self.cpu_share < TARGETS[self.name] and self.rss_mb_max < TARGET_RSS_MB


@dataclass(frozen=True, slots=True)
class ResourcesResult:
    sps: float
    channels: int
    camera: bool  # rendered camera + the real detector
    phases: tuple[Phase, ...]
    peak_rss_mb: float  # VmHWM at the end: the whole run's peak, start-up included
    lines_lost: int  # lines the simulated MCU could not write because the node did not read in time
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    baseline: ResourcesResult | None = None  # the same daemon and shelf without the camera, right after

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)


def read_process(pid: int) -> tuple[Sample, float]:
    """One sample of /proc/<pid>, and its VmHWM (MB)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)
    status: dict[str, str] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as file:
        for line in file:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    rss = int(status["VmRSS"].split()[0]) / 1024
    hwm = int(status["VmHWM"].split()[0]) / 1024
    return Sample(time.monotonic(), cpu_s, rss, int(status["Threads"]), len(os.listdir(f"/proc/{pid}/fd"))), hwm


class Sampler:
    """Samples the daemon every SAMPLE_S on a thread until stopped."""

    def __init__(self, pid: int, lines_lost: Callable[[], int] = lambda: 0) -> None:
        self.pid = pid
        self.lines_lost = lines_lost
        self.samples: list[Sample] = []
        self.hwm_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sample, self.hwm_mb = read_process(self.pid)
            except (OSError, KeyError, IndexError, ValueError):  # the process ended
                return
            self.samples.append(dataclasses.replace(sample, lines_lost=self.lines_lost()))
            self._stop.wait(SAMPLE_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def window(self, t0: float, t1: float) -> list[Sample]:
        return [s for s in self.samples if t0 <= s.at <= t1]


def busy_actions(start_s: float, seconds: float, every_s: float, plates: list[str]) -> list[Action]:
    """A pick, then its put-back, plate after plate, one every `every_s` from `start_s` for `seconds`."""
    actions = []
    for number in range(int(seconds // every_s)):
        plate = plates[(number // 2) % len(plates)]
        kind = "pick" if number % 2 == 0 else "put"
        actions.append(Action.model_validate({"at": start_s + number * every_s, "kind": kind, "plate": plate}))
    return actions


def run(idle_s: float = 60.0, busy_s: float = 60.0, every_s: float = 5.0, sps: float = 80.0, camera: bool = True,
        seed: int = 16, warm_s: float = WARM_S, workdir: Path | None = None, baseline: bool = True) -> ResourcesResult:
    """`warm_s`: scenario seconds before the idle phase ends at the latest (the daemon's start and warm-up); the
    idle phase is the last `idle_s` of it after the warm-up, then the busy phase. `baseline` (with the camera):
    then the same daemon, shelf and phases without the camera, the same-run baseline."""
    result = _measure(idle_s, busy_s, every_s, sps, camera, seed, warm_s, workdir)
    if not (camera and baseline):
        return result
    return dataclasses.replace(result, baseline=_measure(idle_s, busy_s, every_s, sps, False, seed, warm_s, workdir))


def _measure(idle_s: float, busy_s: float, every_s: float, sps: float, camera: bool, seed: int, warm_s: float,
             workdir: Path | None) -> ResourcesResult:
    if camera and not (MODEL / "detect.tflite").is_file():
        raise RigError(f"no detection model in {MODEL} (scripts/get-model), or run with camera=False")
    busy_at = warm_s + idle_s

    def schedule(quiet: Scenario) -> Scenario:
        plates = [slot.plate for slot in quiet.planogram]
        actions = busy_actions(busy_at, busy_s, every_s, list(dict.fromkeys(plates)))
        return quiet.model_copy(update={"actions": actions, "duration_s": busy_at + busy_s + 30.0})

    base = Path(tempfile.mkdtemp(prefix="shelf-bench-resources-", dir=workdir))
    load_before = os.getloadavg()
    images = DEFAULT_IMAGES if DEFAULT_IMAGES.is_dir() else None
    try:
        with LiveRig(base, sps=sps, seed=seed, actions=schedule, model=MODEL if camera else None,
                     images=images) as rig:
            assert rig.shelf is not None and rig.hub is not None and rig.config is not None
            shelf = rig.shelf
            sampler = Sampler(rig.pid, lambda: shelf.lines_lost).start()
            idle_t1 = shelf.monotonic_of(shelf.start_time + busy_at) - 0.5
            # 2 s after the warm-up (the first status round trips and the birth are start-up), at most idle_s
            idle_t0 = max(time.monotonic() + 2.0, idle_t1 - idle_s)
            busy_t0, busy_t1 = idle_t1 + 0.5, shelf.monotonic_of(shelf.start_time + busy_at + busy_s)
            if idle_t1 - idle_t0 < idle_s / 3:
                raise RigError(f"the daemon took too long to start ({time.monotonic() - sampler.samples[0].at:.0f} s "
                               f"after the sampler): raise WARM_S; see {rig.log_path}")
            _sleep_until(busy_t1 + SAMPLE_S * 2)
            sampler.stop()
            hwm = sampler.hwm_mb
            phases = (_phase("idle", sampler, idle_t0, idle_t1, 0, rig),
                      _phase("busy", sampler, busy_t0, busy_t1, int(busy_s // every_s), rig))
            channels = rig.config.serial.channels
            lost = rig.shelf.lines_lost
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return ResourcesResult(sps, channels, camera, phases, hwm, lost, load_before, os.getloadavg())


def _sleep_until(deadline: float) -> None:
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))


def _phase(name: str, sampler: Sampler, t0: float, t1: float, interactions: int, rig: LiveRig) -> Phase:
    samples = sampler.window(t0, t1)
    if len(samples) < 2:
        raise RigError(f"{name} phase: fewer than 2 samples of the daemon between its start and end")
    first, last = samples[0], samples[-1]
    assert rig.hub is not None
    items = sum(1 for at, message in rig.hub.received if t0 <= at <= t1 + 2.0 and message.get("kind") == "item")
    return Phase(name, last.at - first.at, (last.cpu_s - first.cpu_s) / (last.at - first.at),
                 max(s.rss_mb for s in samples), max(s.threads for s in samples), max(s.fds for s in samples),
                 interactions, items, last.lines_lost - first.lines_lost)


def render_markdown(result: ResourcesResult) -> str:
    load = " / ".join(f"{v:.2f}" for v in result.load_before)
    camera = "rendered camera + the real detector" if result.camera else "no camera"
    lines = [
        f"The daemon with an {result.channels}-channel shelf at {result.sps:g} SPS, {camera}, a private mosquitto. "
        f"Load average at the start {load}; peak RSS over the whole run (start-up included, VmHWM) "
        f"{result.peak_rss_mb:.0f} MB (target < {TARGET_RSS_MB:.0f} MB). Serial lines the node did not read in "
        f"time (lost at the simulated MCU): {result.lines_lost}.",
        "",
        "| phase | seconds | CPU, % of one core | target | RSS max, MB | threads | fds | interactions | item events "
        "| lines lost |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in result.phases:
        verdict = "" if p.cpu_share < TARGETS[p.name] else " **missed**"
        lines.append(f"| {p.name} | {p.seconds:.0f} | {100 * p.cpu_share:.1f}{verdict} | "
                     f"< {100 * TARGETS[p.name]:.0f} | {p.rss_mb_max:.0f} | {p.threads_max} | {p.fds_max} | "
                     f"{p.interactions} | {p.item_events} | {p.lines_lost} |")
    if result.baseline is not None:
        for p in result.baseline.phases:
            lines.append(f"| {p.name}, baseline: no camera | {p.seconds:.0f} | {100 * p.cpu_share:.1f} | | "
                         f"{p.rss_mb_max:.0f} | {p.threads_max} | {p.fds_max} | {p.interactions} | "
                         f"{p.item_events} | {p.lines_lost} |")
        lines += ["", f"Baseline: the same daemon, shelf and phases without the camera (no frames, no detector), "
                      f"right after in the same run; its peak RSS {result.baseline.peak_rss_mb:.0f} MB."]
    return "\n".join(lines) + "\n"


def _unavailable() -> str | None:
    if not mosquitto_available():
        return "needs mosquitto (apt-get install mosquitto)"
    if not (MODEL / "detect.tflite").is_file():
        return f"needs the detection model in {MODEL} (scripts/get-model)"
    return None


BENCHMARK = Benchmark(
    name="resources", title="The whole daemon's CPU, RSS, threads and fds: idle and busy shelf, camera and model",
    run=run, render=render_markdown, quick={"idle_s": 20.0, "busy_s": 20.0}, full={"idle_s": 60.0, "busy_s": 60.0},
    unavailable=_unavailable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--busy", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--no-camera", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="skip the same run without the camera")
    args = parser.parse_args()
    try:
        result = run(args.idle, args.busy, args.every, camera=not args.no_camera, baseline=not args.no_baseline)
    except RigError as exc:
        raise SystemExit(f"bench resources: {exc}") from None
    print(render_markdown(result))


if __name__ == "__main__":
    main()
