"""Parsing throughput of 8-channel framed input on one core, against a bare split+int() baseline.

Measured in the same run over the same lines (best of `repeat` runs each, to shed noise from other processes
on a shared machine):
  baseline  line[3:-3].split(b",") + int() per field: the least any parser must do
  parser    FramedParser.parse per pre-split line (checksum, validation, seq + channel health)
  stream    LineSplitter.feed over 4 KiB chunks + parse: the reader's whole CPU path minus I/O
  plain     PlainParser.parse on the same values as comma-separated plain lines
  pty       SerialReader over a real pty: kernel I/O, select, the thread and the GIL included
            (one pass, not best-of; also reports process CPU microseconds per frame)

    scripts/bench parser                                        # 200,000 frames, best of 5
    .venv/bin/python -m bench.parser --frames 2000 --repeat 1   # all options: --help
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import tty
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from bench.benchmark import Benchmark
from edge.loadcell.framing import weight_frame
from edge.loadcell.lines import LineSplitter
from edge.loadcell.protocol import FramedParser, PlainParser
from edge.loadcell.reader import SerialReader
from edge.loadcell.serial_status import SerialHealth

REQUIRED_FPS = 30_000  # the requirement: 8-channel framed frames/s on one core

CHANNELS = 8


def make_lines(frames: int, seed: int = 1) -> tuple[list[bytes], list[bytes]]:
    """Realistic framed lines (a loaded bridge: ~±600k counts with noise) and their plain twins."""
    rng = random.Random(seed)
    offsets = [rng.randint(-600_000, 600_000) for _ in range(CHANNELS)]
    framed, plain = [], []
    for seq in range(frames):
        counts = [offset + rng.randint(-40, 40) for offset in offsets]
        framed.append(weight_frame(seq, seq * 12, counts).rstrip(b"\n"))
        plain.append(",".join(map(str, counts)).encode())
    return framed, plain


def baseline(lines: list[bytes]) -> int:
    total = 0
    for line in lines:
        for field in line[3:-3].split(b","):
            total += int(field)
    return total


def parse_lines(lines: list[bytes]) -> int:
    parser = FramedParser(SerialHealth(CHANNELS))
    parse = parser.parse
    for index, line in enumerate(lines):
        parse(line, index * 0.0125)
    return parser.health.frames_ok


def parse_stream(stream: bytes) -> int:
    parser = FramedParser(SerialHealth(CHANNELS))
    splitter = LineSplitter(256)
    parse = parser.parse
    t = 0.0
    for start in range(0, len(stream), 4096):
        t += 0.05
        for line in splitter.feed(stream[start : start + 4096]):
            parse(line, t)
    return parser.health.frames_ok


def parse_plain(lines: list[bytes]) -> int:
    parser = PlainParser(SerialHealth(CHANNELS))
    parse = parser.parse
    for index, line in enumerate(lines):
        parse(line, index * 0.0125)
    return parser.health.frames_ok


def reader_over_pty(stream: bytes, frames: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) for `frames` frames through SerialReader on a real pty."""
    from edge.config.serial import SerialSection

    master, slave = os.openpty()
    tty.setraw(slave)
    received = threading.Event()
    count = 0

    def on_frame(frame: object) -> None:
        nonlocal count
        count += 1
        if count == frames:
            received.set()

    section = SerialSection(port=os.ttyname(slave), channels=CHANNELS, query_on_open=False)
    reader = SerialReader(section, on_frame).start()
    try:
        while not reader.health.connected:
            time.sleep(0.01)
        cpu, wall = time.process_time(), time.perf_counter()
        view = memoryview(stream)
        while view:
            view = view[os.write(master, view[:65536]) :]
        if not received.wait(300):
            raise RuntimeError(f"bench.parser: only {count} of {frames} frames arrived through the pty")
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        reader.stop()
        os.close(master)
        os.close(slave)


def best_of(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


@dataclass(frozen=True)
class ParserResult:
    frames: int
    repeat: int
    bytes_per_frame: float
    frames_per_s: Mapping[str, float]  # baseline, parser, stream, plain, pty
    pty_cpu_us_per_frame: float  # process CPU through the pty (reader thread + the writer)

    def cost_vs_baseline(self, name: str) -> float:
        """How many times the baseline's time `name` takes (> 1: it does more than split + int)."""
        return self.frames_per_s["baseline"] / self.frames_per_s[name]

    @property
    def meets_requirement(self) -> bool:
        return self.frames_per_s["stream"] >= REQUIRED_FPS


def run(frames: int = 200_000, repeat: int = 5) -> ParserResult:
    framed, plain = make_lines(frames)
    stream = b"\n".join(framed) + b"\n"
    accepted = (parse_lines(framed), parse_stream(stream), parse_plain(plain))
    if accepted != (frames, frames, frames):
        raise RuntimeError(f"bench.parser: the parsers accepted {accepted} of {frames} generated frames")
    seconds = {
        "baseline": best_of(repeat, lambda: baseline(framed)),
        "parser": best_of(repeat, lambda: parse_lines(framed)),
        "stream": best_of(repeat, lambda: parse_stream(stream)),
        "plain": best_of(repeat, lambda: parse_plain(plain)),
    }
    pty_wall, pty_cpu = reader_over_pty(stream, frames)
    seconds["pty"] = pty_wall
    return ParserResult(frames=frames, repeat=repeat, bytes_per_frame=round(len(stream) / frames, 1),
                        frames_per_s={name: frames / value for name, value in seconds.items()},
                        pty_cpu_us_per_frame=1e6 * pty_cpu / frames)


def render_markdown(result: ParserResult) -> str:
    lines = [f"{result.frames} frames x {CHANNELS} channels ({result.bytes_per_frame:g} bytes each), best of "
             f"{result.repeat} (pty: one pass).", "",
             "| path | frames/s | us/frame | time vs baseline |", "|---|---|---|---|"]  # fmt: skip
    for name, fps in result.frames_per_s.items():
        ratio = "1 (baseline)" if name == "baseline" else f"{result.cost_vs_baseline(name):.2f}x"
        lines.append(f"| {name} | {fps:,.0f} | {1e6 / fps:.2f} | {ratio} |")
    verdict = "meets" if result.meets_requirement else "**misses**"
    lines += ["", f"Through the pty: process CPU {result.pty_cpu_us_per_frame:.2f} us/frame (reader thread + "
              f"writer). The stream rate {verdict} the {REQUIRED_FPS:,} frames/s requirement."]  # fmt: skip
    return "\n".join(lines) + "\n"


BENCHMARK = Benchmark(
    name="parser",
    title="serial parser: framed 8-channel parsing on one core, against bare split + int()",
    run=run,
    render=render_markdown,
    quick={"frames": 50_000, "repeat": 3},
    full={"frames": 200_000, "repeat": 5},
    detail="bench/parser.md",
)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--frames", type=int, default=200_000, help="frames per run (default 200000)")
    options.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best counts (default 5)")
    options.add_argument("--json", action="store_true", help="print one JSON object instead of markdown")
    args = options.parse_args(argv)
    result = run(args.frames, args.repeat)
    print(json.dumps(asdict(result), indent=2) if args.json else render_markdown(result))
    return 0 if result.meets_requirement else 1


if __name__ == "__main__":
    sys.exit(main())
