"""The limits, in one table, each against a baseline measured in the same run: detector pipeline against bare
invoke, parse rate, replay rate, outbox append and drain, fusion per event.

Short versions of the other benchmarks' measurements (bench.vision_measure, bench.parser, bench.outbox,
bench.fusion) plus the replay rate measured here: a simulated 8-channel capture replayed through the node's
`Replay` (parser + Weigher, edge/node/replay.py), against reading the same capture with `CaptureReader` alone.
A part that cannot run on this machine (no model, no mosquitto) is reported as not measured, with the reason.

    scripts/bench limits
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import outbox
from bench.benchmark import Benchmark

# The other parts are imported where they run, after the outbox's: its drain child's peak RSS counts the pages
# it shares with this process when forked, so this process stays small until then.
MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "coco_ssd_mobilenet_v1_1.0_quant"


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # what is limited
    measured: float | None  # None: not measured here (see note)
    unit: str
    baseline_name: str  # the same-run baseline
    baseline: float | None
    target: str  # the requirement, or "(report)"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / baseline."""
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline


@dataclass(frozen=True)
class LimitsResult:
    limits: tuple[Limit, ...]

    def get(self, name: str) -> Limit:
        return next(limit for limit in self.limits if limit.name == name)


def detector_limits(rounds: int, model: Path) -> list[Limit]:
    from bench import vision
    from bench.vision_measure import throughput

    missing = vision.unavailable(model)
    rows = []
    for threads in (1, 2):
        name = f"detector pipeline, {threads} thread{'s' if threads > 1 else ''}"
        if missing:
            rows.append(Limit(name, None, "frames/s", "bare invoke()", None, ">= 90 % of bare", missing))
            continue
        with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
            row = throughput(model, Path(tmp), threads, rounds, bare_s=1.0, pipe_s=2.0, video_s=2.0)
        rows.append(Limit(name, statistics.median(row.pipe), "frames/s", "bare invoke() loop, alternating rounds",
                          statistics.median(row.bare), ">= 90 % of bare",
                          f"median ratio over {rounds} round{'s' if rounds != 1 else ''}: {row.ratio:.1%}"))
    return rows


def parse_limit(frames: int) -> Limit:
    from bench import parser

    result = parser.run(frames=frames, repeat=3)
    return Limit("parse rate (split + parse + health, 8 channels)", result.frames_per_s["stream"], "frames/s",
                 "bare split + int()", result.frames_per_s["baseline"], ">= 30,000 frames/s",
                 f"through a real pty: {result.frames_per_s['pty']:,.0f} frames/s")


def replay_limit(interactions: int) -> Limit:
    """Frames/s of `Replay` (parser + Weigher, as `shelf-node replay`) against reading the capture alone."""
    from bench.weighing_replay import CONFIG, simulate
    from edge.config import parse_config
    from edge.loadcell.recording import CaptureReader
    from edge.node.replay import Replay
    from edge.weighing import CalibrationStore

    config = parse_config(CONFIG)
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
        capture, _, calibration = simulate(2026, 80.0, interactions, Path(tmp))
        start = time.perf_counter()
        lines = sum(1 for _ in CaptureReader(capture))
        read_s = time.perf_counter() - start
        replay = Replay(config, capture, CalibrationStore(calibration, read_only=True))
        start = time.perf_counter()
        events = sum(1 for _ in replay.events())
        replay_s = time.perf_counter() - start
        frames = replay.summary().frames
    return Limit("replay rate (capture -> parser -> Weigher -> weight events)", frames / replay_s, "frames/s",
                 "reading the same capture (CaptureReader)", lines / read_s, "(report)",
                 f"{frames:,} frames at 80 SPS ({frames / 80 / 3600:.1f} h of shelf), {events} events: "
                 f"{frames / 80 / replay_s:,.0f}x real time")


def outbox_limits(events: int, appends: int) -> list[Limit]:
    missing = outbox.unavailable()
    if missing:
        return [Limit("outbox append (durable)", None, "us/event", "fsync'd plain-file append", None, "(report)",
                      missing),
                Limit("outbox drain to mosquitto", None, "events/s", "bare paho QoS 1", None, "(report)", missing)]
    r = outbox.run(events=events, appends=appends)
    bare = f"bare SQLite, synchronous=OFF: {r.bare_sqlite_sync_off_us:.0f} us"
    return [Limit("outbox append (durable)", r.outbox_us, "us/event", "fsync'd plain-file append",
                  r.file_append_fsync_us, "(report)", bare),
            Limit("outbox drain to mosquitto", r.drain_events_per_s, "events/s", "bare paho QoS 1, same window",
                  r.bare_paho_events_per_s, "(report)", f"{r.events:,} events, peak RSS {r.drain_peak_rss_mb:.0f} MiB")]


def fusion_limit(interactions: int) -> Limit:
    from bench import fusion

    result = fusion.run(seeds=(201,), rates=(10.0,), interactions=interactions, models=("fused", "aim3s"))
    fused, aim3s = result.pooled[10.0]["fused"], result.pooled[10.0]["aim3s"]
    return Limit("fusion per event, p95", fused.time_p95_ms, "ms", "AIM3S rule, same events", aim3s.time_p95_ms,
                 "<= 5 ms", f"{fused.events} events; median {fused.time_median_ms:.3f} ms; CPU p95 "
                 f"{fused.cpu_p95_ms:.3f} ms")


def run(vision_rounds: int = 2, parse_frames: int = 50_000, replay_interactions: int = 150,
        drain_events: int = 5000, appends: int = 200, fusion_interactions: int = 80,
        model: Path = MODEL) -> LimitsResult:
    # The outbox first, while this process is small (see the imports above).
    parts: dict[str, Callable[[], list[Limit]]] = {
        "outbox": lambda: outbox_limits(drain_events, appends),
        "detector": lambda: detector_limits(vision_rounds, model),
        "parse": lambda: [parse_limit(parse_frames)],
        "replay": lambda: [replay_limit(replay_interactions)],
        "fusion": lambda: [fusion_limit(fusion_interactions)],
    }
    measured = {name: part() for name, part in parts.items()}
    order = ("detector", "parse", "replay", "outbox", "fusion")  # the table's order
    return LimitsResult(tuple(limit for name in order for limit in measured[name]))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    digits = 0 if value >= 100 else 1 if value >= 10 else 3
    return f"{value:,.{digits}f} {unit}"


def render_markdown(result: LimitsResult) -> str:
    lines = ["| limit | measured | baseline, same run | measured / baseline | target | notes |",
             "|---|---|---|---|---|---|"]
    for limit in result.limits:
        ratio = f"{limit.ratio:.2f}" if limit.ratio is not None else "-"
        lines.append(f"| {limit.name} | {_value(limit.measured, limit.unit)} | {limit.baseline_name}: "
                     f"{_value(limit.baseline, limit.unit)} | {ratio} | {limit.target} | {limit.note or '-'} |")
    return "\n".join(lines) + "\n"


BENCHMARK = Benchmark(
    name="limits",
    title="The limits, each against its same-run baseline",
    run=run,
    render=render_markdown,
    quick={"vision_rounds": 1, "parse_frames": 20_000, "replay_interactions": 60, "drain_events": 2000,
           "appends": 100, "fusion_interactions": 60},
    full={"vision_rounds": 3, "parse_frames": 100_000, "replay_interactions": 300, "drain_events": 20_000,
          "appends": 500, "fusion_interactions": 200},
)
