"""Vision: the bare interpreter's invoke rate against the whole capture -> preprocess -> detect -> evidence
pipeline (1 and 2 threads), JPEG decoding against OpenCV's, and the CPU an idle shelf costs with the camera on
against the same shelf held active.

    scripts/bench vision                                   # the documented run (mode "fine": 30 rounds a row)
    .venv/bin/python -m bench.vision --smoke               # a few seconds; all options: --help
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from bench import machine
from bench.benchmark import Benchmark
from bench.vision_measure import (
    DEFAULT_MODEL,
    decode_costs,
    full_rate_cpu,
    idle_cpu,
    throughput,
)
from bench.vision_report import Mode, VisionResult, render_markdown  # the typed result and its markdown
from edge.hw.jpeg import decoder_name

ROWS = ((1, "linear"), (2, "linear"), (2, "area"))
MODES = {
    "full": Mode(6, 2.0, 3.0, 30.0, 1.5, 4.0, ROWS),
    "quick": Mode(1, 1.0, 2.0, 3.0, 1.5, 2.0, ROWS),
    # Short segments, many rounds: each pipeline run sits closer in time to its bare runs, so host load
    # that drifts over seconds differs less within a pair; the median is over 30 rounds.
    "fine": Mode(30, 0.7, 1.0, 30.0, 1.5, 4.0, ROWS),
    "smoke": Mode(1, 0.3, 0.8, 1.0, 0.5, 0.5, ((1, "linear"), (2, "linear"))),
}


def unavailable(model: Path = DEFAULT_MODEL) -> str | None:
    if not (model / "detect.tflite").is_file():
        return f"no detection model at {model} (scripts/get-model installs one)"
    return None


def run(mode: str = "full", model: Path = DEFAULT_MODEL, rounds: int | None = None,
        threads: Sequence[int] = (), resize: str | None = None) -> VisionResult:
    """Every row of the mode (or those with `threads` / `resize`), then decoding and idle CPU."""
    settings = MODES[mode]
    if rounds:
        settings = Mode(rounds, *[getattr(settings, f) for f in ("bare_s", "pipe_s", "idle_s", "settle_s",
                                                                 "video_s", "rows")])  # fmt: skip
    rows = tuple(row for row in settings.rows if (not threads or row[0] in threads) and resize in (None, row[1]))
    settings = Mode(settings.rounds, settings.bare_s, settings.pipe_s, settings.idle_s, settings.settle_s,
                    settings.video_s, rows)
    measured = []
    with tempfile.TemporaryDirectory(prefix="bench-vision-") as tmp_name:
        tmp = Path(tmp_name)
        for row_threads, row_resize in rows:
            measured.append(throughput(model, tmp, row_threads, settings.rounds, settings.bare_s, settings.pipe_s,
                                       row_resize, settings.video_s))
        decode = decode_costs(30 if mode == "smoke" else 300)
        idle = idle_cpu(tmp, model, settings.idle_s, settings.settle_s)
        active = full_rate_cpu(tmp, model, min(settings.idle_s, 10.0), settings.settle_s)
    return VisionResult(mode=mode, settings=settings, rows=tuple(measured), decode_ms=tuple(decode.items()),
                        idle=idle, active_cpu=active if active > 0 else float("nan"), decoder=decoder_name(),
                        opencv=cv2.__version__, numpy=np.__version__)


BENCHMARK = Benchmark(
    name="vision",
    title="vision: detector throughput against bare invoke, JPEG decoding, idle CPU",
    run=run,
    render=render_markdown,
    quick={"mode": "quick", "threads": (1, 2), "resize": "linear"},
    full={"mode": "fine"},
    detail="bench/vision.md",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--quick", action="store_true", help="short runs (~30 s in all)")
    length.add_argument("--smoke", action="store_true", help="a few seconds: proves it runs, figures are rough")
    length.add_argument("--fine", action="store_true", help="30 rounds of 1 s pipeline between 0.7 s bare runs")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="directory with detect.tflite")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--rounds", type=int, help="bare/pipeline rounds per row (default: per mode)")
    parser.add_argument("--threads", type=int, action="append", help="only rows with this many threads (repeatable)")
    parser.add_argument("--resize", choices=("linear", "area"), help="only rows with this resize")
    args = parser.parse_args(argv)
    missing = unavailable(args.model)
    if missing:
        print(f"bench.vision: {missing}; pass --model DIR", file=sys.stderr)
        return 1
    mode = "smoke" if args.smoke else "quick" if args.quick else "fine" if args.fine else "full"
    result = run(mode, args.model, args.rounds, tuple(args.threads or ()), args.resize)
    command = " ".join(["python -m bench.vision", *(sys.argv[1:] if argv is None else argv)])
    header = ["# Vision benchmark", "", f"- machine: {machine.capture().describe()}", f"- command: `{command}`",
              f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]
    report = "\n".join(header) + "\n" + render_markdown(result)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
    return 0 if result.meets_targets else 2


if __name__ == "__main__":
    sys.exit(main())
