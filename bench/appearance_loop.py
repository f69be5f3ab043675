"""The appearance loop's cost in the node (edge/node/appearance_feed.py; docs/gallery.md "Appearance in the daemon").

One plate with two same-weight same-label apples (Golden Delicious 182 g, Pink Lady 185 g, both 'apple'), a
look-back ring whose frames show jittered sku photos where the detector's box is, the real gallery feed storing
the crops of `examples` accepted picks per SKU (teach photos), the real model describing them, the real
ItemStep's fusion deciding `picks` picks of 183.5 g (the weight cannot tell) shown with held-out photos.

Measured, per pick on the processing thread's path: `describe` (the crop descriptor) and fusion, without a
trusted splitter and with one; a refresh with every crop to describe (cold) and with all cached (warm); the
processing path while a cold refresh runs on its thread; the detector's invoke with and without
keep_intermediates (interleaved, the baseline in the same run); the second interpreter's RSS.
Needs ../shared (model, sku photos).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from bench.benchmark import Benchmark

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MODEL = SHARED / "models" / "coco_ssd_mobilenet_v1_1.0_quant" / "detect.tflite"
BOX = (60, 100, 188, 228)
CONFIG = """
[node]
store_id = "s1"
node_id = "n1"
state_dir = "{state}"
[serial]
port = "loop://"
channels = 1
[[plates]]
name = "p1"
channels = [0]
"""


@dataclass(frozen=True)
class AppearanceLoopResult:
    examples: int  # per SKU
    picks: int
    load: tuple[float, float]  # 1-min load average before and after
    describe_untrusted_ms: float  # median
    describe_trusted_ms: tuple[float, float]  # median, p95
    fusion_ms: float  # median, trusted
    refresh_cold_ms_per_crop: float
    refresh_warm_ms: float
    during_refresh_ms: tuple[float, float, float]  # median, p95, max of describe + fusion
    invoke_ms: tuple[float, float]  # median without, with keep_intermediates
    second_interpreter_mb: float
    settled_right: int  # of `picks`: the right SKU, no twin reason
    flagged: int  # of `picks`, any reason


class _Camera:
    """What the feeds read of a VisionService: the look-back ring, the plate's region, hand label, overlap."""

    def __init__(self) -> None:
        from edge.model import PlateRegion
        from edge.vision.ring import FrameRing

        self.ring = FrameRing(60.0)
        self.regions = [PlateRegion("p1", ((0, 0), (320, 0), (320, 480), (0, 480)))]
        self.hand_label, self.min_overlap = "person", 0.3

    def frames_between(self, t0: float, t1: float) -> list[Any]:
        return self.ring.frames_between(t0, t1)


def run(examples: int = 50, picks: int = 40, invokes: int = 40) -> AppearanceLoopResult:
    from edge.config import parse_config
    from edge.model import Detection, ItemEvent, ItemLine, PlateChange, PlateEvidence, WeightEvent
    from edge.node.appearance_feed import AppearanceFeed
    from edge.node.gallery_feed import GalleryFeed
    from edge.node.items import ItemStep
    from edge.planogram import parse_planogram
    from edge.sim.camera.photos import TEACH, TEST, PhotoLibrary, jittered_crop
    from edge.sim.scenario import Item
    from edge.vision.appearance_embed import CropEmbedder

    load0 = _load()
    golden = Item(sku="GOLDEN", unit_g=182.0, labels=["apple"], look="Golden-Delicious")
    pink = Item(sku="PINK", unit_g=185.0, labels=["apple"], look="Pink-Lady")
    catalogue = [{"sku": i.sku, "name": i.sku, "unit_weight_g": i.unit_g, "unit_sigma_g": 1.5, "labels": ["apple"]}
                 for i in (golden, pink)]
    planogram = parse_planogram(json.dumps({"format": 2, "id": "pg", "version": 1, "catalogue": catalogue, "plates": {
        "p1": [{"sku": "GOLDEN", "stock": 10_000}, {"sku": "PINK", "stock": 10_000}]}}), ["p1"])
    teach, test = PhotoLibrary(SHARED / "images", TEACH), PhotoLibrary(SHARED / "images", TEST)
    rng = np.random.default_rng(15)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "state").mkdir()
        config = parse_config(CONFIG.format(state=Path(tmp) / "state"))
        camera = _Camera()
        items = ItemStep(config, planogram=planogram)
        feed = GalleryFeed(config, cast(Any, camera), lambda: planogram)
        counters = feed.counters
        loop = AppearanceFeed(config, cast(Any, camera), items.stage, feed.gallery, lambda: planogram,
                              CropEmbedder(MODEL), "crop-v1:bench",
                              changes=lambda: counters["stored"] + counters["review_answers"])
        feed.admit = loop.admits
        clock = [1_790_000_000.0]

        def show(sku: Any, library: Any, index: int) -> float:
            clock[0] += 5.0
            photos = library.photos_for(sku)
            image = np.full((480, 640, 3), 96, np.uint8)
            image[BOX[1]:BOX[3], BOX[0]:BOX[2]] = jittered_crop(library.image(photos[index % len(photos)]), rng)
            camera.ring.push(clock[0] + 0.5, image).detections = (Detection("apple", 52, 0.8, BOX),)
            return clock[0]

        def pick(sku: Any, index: int) -> tuple[float, float, Any]:
            t = show(sku, test, index)
            event = WeightEvent(t, t + 1.0, {"p1": -183.5}, -183.5, 0.8)
            start = time.perf_counter()
            evidence = loop.describe(event, {"p1": PlateEvidence("p1", {"apple": (0.8, 0.7)}, 5, True)})
            described = time.perf_counter()
            decided = items.weight_event(event, evidence, True, t + 1.1) + items.flush()
            return (described - start) * 1e3, (time.perf_counter() - described) * 1e3, decided[0]

        feed.start()
        loop.refresh()
        untrusted = [pick(golden if i % 2 else pink, i)[0] for i in range(10)]
        for i in range(examples):
            for sku in (golden, pink):
                t = show(sku, teach, i)
                line = ItemLine(sku.sku, 1, "p1")
                accepted = ItemEvent(t_start=t, t_end=t + 1.0, action="pick", lines=(line,), confidence=0.9995,
                                     misplaced=False, review_required=False, review_reasons=(), alternatives=(),
                                     weight_events=(), changes=(PlateChange("p1", -sku.unit_g, 0.5),),
                                     residual_g=0.0, vision={"camera": "ok"})
                feed.on_item(accepted, _Submitted(str(uuid.uuid4()), i))
        deadline = time.monotonic() + 120
        while counters["stored"] < 2 * examples and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.perf_counter()
        loop.refresh()
        cold = (time.perf_counter() - started) * 1e3
        started = time.perf_counter()
        loop.refresh()
        warm = (time.perf_counter() - started) * 1e3
        trusted = [pick(pink if i % 2 else golden, i) for i in range(picks)]
        right = sum(1 for i, (_, _, it) in enumerate(trusted) if [line.sku for line in it.lines] ==
                    ["PINK" if i % 2 else "GOLDEN"] and "twin" not in it.review_reasons)
        flagged = sum(1 for _, _, it in trusted if it.review_required)
        loop.kind = "crop-v1:bench-cold"  # nothing cached under it: the refresh describes every crop again
        refresh = threading.Thread(target=loop.refresh, name="appearance")
        refresh.start()
        during: list[float] = []
        while refresh.is_alive():
            a, b, _ = pick(pink, len(during))
            during.append(a + b)
        refresh.join()
        feed.stop()
    invoke_plain, invoke_keep, rss_mb = _invokes(invokes)
    return AppearanceLoopResult(
        examples, picks, (load0, _load()), _median(untrusted),
        (_median([d for d, _, _ in trusted]), _p95([d for d, _, _ in trusted])), _median([f for _, f, _ in trusted]),
        round(cold / (2 * examples), 2), round(warm, 1),
        (_median(during), _p95(during), round(max(during), 1)), (invoke_plain, invoke_keep), rss_mb, right, flagged)


@dataclass(frozen=True)
class _Submitted:
    event_id: str
    seq: int


def _invokes(count: int) -> tuple[float, float, float]:
    """Median invoke ms of the detector's interpreter without and with kept intermediates (interleaved), and the
    RSS the second one (with them) adds."""
    from edge.hw.runtime import load_interpreter

    plain = load_interpreter(MODEL, 1)
    before = _rss_mb()
    keep = load_interpreter(MODEL, 1, keep_intermediates=True)
    x = np.random.default_rng(0).integers(0, 255, (1, 300, 300, 3), dtype=np.uint8)
    times: dict[str, list[float]] = {"plain": [], "keep": []}
    for i in range(count + 2):
        for name, interpreter in (("plain", plain), ("keep", keep)):
            started = time.perf_counter()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
            interpreter.invoke()
            if i >= 2:  # the first invokes warm up
                times[name].append((time.perf_counter() - started) * 1e3)
    return _median(times["plain"]), _median(times["keep"]), round(_rss_mb() - before, 1)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load() -> float:
    return round(float(Path("/proc/loadavg").read_text().split()[0]), 2)


def _median(values: list[float]) -> float:
    return round(float(np.median(values)), 2) if values else 0.0


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 2) if values else 0.0


def render_markdown(r: AppearanceLoopResult) -> str:
    return "\n".join([
        f"One plate, two same-weight 'apple' look-alikes, {r.examples} self-labelled examples per SKU (teach "
        f"photos), {r.picks} twin picks shown with held-out photos; load {r.load[0]} -> {r.load[1]} on 2 cores.",
        "",
        "| what | ms |",
        "|---|---|",
        f"| describe, no trusted plate (median) | {r.describe_untrusted_ms} |",
        f"| describe, trusted plate (median / p95) | {r.describe_trusted_ms[0]} / {r.describe_trusted_ms[1]} |",
        f"| fusion, trusted plate (median) | {r.fusion_ms} |",
        f"| refresh, per crop to describe | {r.refresh_cold_ms_per_crop} |",
        f"| refresh, all cached | {r.refresh_warm_ms} |",
        "| describe + fusion during a cold refresh (median / p95 / max) | "
        f"{' / '.join(map(str, r.during_refresh_ms))} |",
        f"| detector invoke without / with keep_intermediates (median) | {r.invoke_ms[0]} / {r.invoke_ms[1]} |",
        "",
        f"Twin picks settled right (no `twin`): {r.settled_right}/{r.picks}; flagged for any reason: "
        f"{r.flagged}/{r.picks}. A second interpreter with intermediates kept: +{r.second_interpreter_mb} MB RSS.",
    ])


def _unavailable() -> str | None:
    if not MODEL.is_file() or not (SHARED / "images" / "sku-photos").is_dir():
        return f"needs the shared model and sku photos under {SHARED}"
    return None


BENCHMARK = Benchmark(name="appearance_loop", title="The appearance loop in the node: crop descriptors per event, "
                      "splitter refreshes, keep_intermediates", run=run, render=render_markdown,
                      quick={"examples": 30, "picks": 10, "invokes": 10}, full={"examples": 50, "picks": 40,
                                                                               "invokes": 40},
                      unavailable=_unavailable)
