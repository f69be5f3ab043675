"""Plate windows in the live service: does choosing the windows while the shelf is handled (motion in the
plate, a hand over it; edge.vision.live_windows) keep what replay's windows (every touched plate, every
frame) give? Baselines in the same run: whole frames only, and replay's windows.

Renders a label tour (every labelled SKU picked and put back, edge.sim.camera.tour) in bench/vision_loop.py's
5-plate view, runs the real detector on every delivered frame of each interaction's window (t_start - 1 s ..
t_settled + 1 s: a detector that keeps up with the active rate), the live chooser on each of those frames in
time order (idle frames in between keep its motion reference), and counts the SKU's catalogue label on the
touched plate's evidence: whole frames; + the live windows at each crop_max_windows; + replay's window.
Cost: CPU per whole-frame and per window run (one interpreter thread), windows per frame.

    scripts/bench live_windows                 # held-out photos (report), seed 13
    .venv/bin/python -m bench.live_windows --split measure --seed 31 --per-sku 4   # the tuning run
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bench.benchmark import Benchmark
from bench.rendered_camera import IMAGES, MODEL, unavailable
from edge.model import Detection, PlateRegion
from edge.sim.camera.measure import regions, stock_of
from edge.sim.camera.photos import PhotoLibrary
from edge.sim.camera.renderer import RenderedCamera
from edge.sim.camera.tour import label_tour, labelled_skus
from edge.sim.camera.view import ShelfView
from edge.sim.engine import Simulation, layout_for
from edge.sim.offline import DEFAULT_START
from edge.vision.evidence import AnalysedFrame, build_evidence
from edge.vision.live_windows import HandledPlates

Split = Literal["measure", "held_out", "all"]
PLATES = ("p1", "p2", "p3", "p4", "p5")  # bench/vision_loop.py's view
BEFORE_S, AFTER_S = 1.0, 1.0  # the node's evidence window around the change


@dataclass(frozen=True)
class LiveChoice:
    max_windows: int
    windows_per_frame: float  # over the event windows' frames
    touched_covered: float  # share of those frames whose touched plate got a window
    label_hits: int  # events whose touched plate shows the SKU's label with these windows


@dataclass(frozen=True)
class LiveWindowsResult:
    split: Split
    seed: int
    per_sku: int
    crop_scale: float
    events: int  # picks and puts of a labelled SKU
    frames: int  # frames of the event windows (each detected once)
    whole_hits: int  # label on the touched plate from whole frames only
    replay_hits: int  # ... with replay's window (the touched plate, every frame)
    choices: tuple[LiveChoice, ...]
    whole_cpu_ms: float  # mean CPU per whole-frame run (resize, invoke, decode; one thread)
    window_cpu_ms: float  # mean CPU per window run
    wall_s: float


def run(split: Split = "held_out", per_sku: int = 4, seed: int = 13, crop_scale: float = 2.0,
        max_windows: Sequence[int] = (1, 2), skus: Sequence[str] = (), images: Path = IMAGES,
        model: Path = MODEL) -> LiveWindowsResult:
    """`skus`: the SKUs to tour (default every labelled one)."""
    from edge.hw.jpeg import decode_jpeg
    from edge.vision.detector import Detector
    from edge.vision.plate_crops import crop_window, detect_in_window

    started = time.time()
    scenario = label_tour(seed, list(skus) or labelled_skus(), per_sku)
    truth = [r.shifted(DEFAULT_START) for r in Simulation(scenario, layout_for(scenario), 10.0).truth]
    camera = RenderedCamera(truth, scenario.items, ShelfView.grid(list(PLATES)), scenario.seed,
                            PhotoLibrary(images, split), stock_of((s.plate, s.sku) for s in scenario.planogram))
    catalogue = {item.sku: item for item in scenario.items}
    handled = {h.record_id: h for h in camera.timeline.handlings if h.record_id is not None}
    events = [(r, handled[r.id].plates[0]) for r in truth
              if r.kind in ("pick", "put") and r.sku and catalogue[r.sku].labels and r.id in handled]
    spans = [(r.t_start - BEFORE_S, r.t_settled + AFTER_S) for r, _ in events]
    plates = regions(camera)
    by_name = {p.name: p for p in plates}
    detector = Detector.from_files(model / "detect.tflite", model / "coco_labels.txt")
    side = max(detector.input_w, detector.input_h)
    choosers = {k: HandledPlates(plates, k, "person") for k in max_windows}
    whole: dict[int, tuple[Detection, ...]] = {}  # ms -> the frame's detections
    windows: dict[tuple[int, str], tuple[Detection, ...]] = {}  # (ms, plate) -> the window's detections
    chosen: dict[tuple[int, int], tuple[str, ...]] = {}  # (k, ms) -> plates given a window live
    whole_ns, window_ns = [], []

    def window_of(ms: int, image: np.ndarray, region: PlateRegion) -> tuple[Detection, ...]:
        if (ms, region.name) not in windows:
            start = time.thread_time_ns()
            box = crop_window(region, image.shape[1], image.shape[0], crop_scale, side)
            windows[ms, region.name] = tuple(detect_in_window(detector, image, box))
            window_ns.append(time.thread_time_ns() - start)
        return windows[ms, region.name]

    touched_at = [(a, b, plate) for (a, b), (_, plate) in zip(spans, events, strict=True)]
    for ms in camera.frame_times(spans[0][0] - 2.0, spans[-1][1]):
        t = ms / 1000
        image = decode_jpeg(np.frombuffer(camera.jpeg(ms), np.uint8), f"{ms}.jpg")
        if not any(a <= t <= b for a, b, _ in touched_at):
            for chooser in choosers.values():
                chooser.see(image)  # an idle frame: the live service's motion reference
            continue
        picks = {k: chooser.choose(t, image) for k, chooser in choosers.items()}  # before the invoke, as live
        start = time.thread_time_ns()
        whole[ms] = tuple(detector.detect(image))
        whole_ns.append(time.thread_time_ns() - start)
        for k, chooser in choosers.items():
            chooser.saw_hands(t, whole[ms])
            chosen[k, ms] = tuple(region.name for region in picks[k])
            for region in picks[k]:
                window_of(ms, image, region)
        for a, b, plate in touched_at:  # replay's window: the touched plate, every frame of the event
            if a <= t <= b and (ms, plate) not in windows:
                window_of(ms, image, by_name[plate])

    def hit(label: str, plate: str, frames: list[AnalysedFrame]) -> bool:
        return label in build_evidence(frames, plates, "person", 0.3).evidence[plate].labels

    whole_hits = replay_hits = 0
    live_hits = dict.fromkeys(max_windows, 0)
    frame_count, per_k = 0, {k: [0, 0] for k in max_windows}  # k -> [windows, touched covered]
    for (record, plate), (a, b) in zip(events, spans, strict=True):
        label = catalogue[record.sku or ""].labels[0]
        times = [ms for ms in whole if a <= ms / 1000 <= b]
        frame_count += len(times)
        whole_hits += hit(label, plate, [AnalysedFrame(ms / 1000, ms, whole[ms]) for ms in times])
        replay_hits += hit(label, plate, [AnalysedFrame(ms / 1000, ms, whole[ms] + windows[ms, plate])
                                          for ms in times])
        for k in max_windows:
            per_k[k][0] += sum(len(chosen[k, ms]) for ms in times)
            per_k[k][1] += sum(plate in chosen[k, ms] for ms in times)
            live = [AnalysedFrame(ms / 1000, ms, whole[ms] + (windows[ms, plate] if plate in chosen[k, ms] else ()))
                    for ms in times]  # the touched plate's windows only, as the node asks
            live_hits[k] += hit(label, plate, live)
    choices = tuple(LiveChoice(k, round(per_k[k][0] / max(frame_count, 1), 3),
                               round(per_k[k][1] / max(frame_count, 1), 3), live_hits[k]) for k in max_windows)
    return LiveWindowsResult(split, seed, per_sku, crop_scale, len(events), frame_count, whole_hits, replay_hits,
                             choices, round(float(np.mean(whole_ns)) / 1e6, 2),
                             round(float(np.mean(window_ns)) / 1e6, 2) if window_ns else 0.0,
                             round(time.time() - started, 1))


def render_markdown(result: LiveWindowsResult) -> str:
    n = max(result.events, 1)
    lines = [
        f"Label tour, seed {result.seed}, {result.per_sku} per SKU, {result.split} photos: {result.events} picks and "
        f"puts of labelled SKUs, {result.frames} frames in their windows (each detected once), `crop_scale` "
        f"{result.crop_scale:g}, {result.wall_s:g} s. Baselines in the same run: whole frames only, and replay's "
        "windows (the touched plate in every frame). A hit: the SKU's label in the touched plate's evidence.",
        "",
        "| windows | per frame | touched plate windowed (share of frames) | label hits | CPU per frame (ms) |",
        "|---|---|---|---|---|",
        f"| whole frames only | 0 | 0 | {result.whole_hits / n:.3f} | {result.whole_cpu_ms:.1f} |",
    ]
    for c in result.choices:
        cost = result.whole_cpu_ms + c.windows_per_frame * result.window_cpu_ms
        lines.append(f"| live, `crop_max_windows = {c.max_windows}` | {c.windows_per_frame:.2f} | "
                     f"{c.touched_covered:.2f} | {c.label_hits / n:.3f} | {cost:.1f} |")
    lines.append(f"| replay (every frame, the touched plate) | 1 | 1 | {result.replay_hits / n:.3f} | "
                 f"{result.whole_cpu_ms + result.window_cpu_ms:.1f} |")
    lines += ["", f"CPU per run, one interpreter thread: whole frame {result.whole_cpu_ms:.1f} ms, plate window "
              f"{result.window_cpu_ms:.1f} ms."]
    return "\n".join(lines) + "\n"


BENCHMARK = Benchmark(
    name="live_windows",
    title="plate windows chosen live (motion, hands) against replay's windows and whole frames",
    run=run,
    render=render_markdown,
    quick={"per_sku": 1},
    full={"per_sku": 4},
    detail="vision.md#plate-windows-crop_scale-crop_max_windows",
    unavailable=unavailable,
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="held_out", choices=("measure", "held_out", "all"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--per-sku", type=int, default=4)
    parser.add_argument("--crop-scale", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(render_markdown(run(args.split, args.per_sku, args.seed, args.crop_scale)), end="")


if __name__ == "__main__":
    main()
