"""Gallery: same-label twins split by a self-learned appearance model as the gallery grows, on three seeds; and
a self-labelling loop fed 2 % wrong labels, with and without the poisoning guard.

A simulated day (bench/gallery_world.py, bench/gallery_day.py) on four plates of same-label twins (apples of
182 g and 185 g, two juice brands and two yoghurts of one weight, two milks of one brand) and a second facing
of each of those SKUs on a plate without a look-alike. Each pick's crop shows a **teach** photo of its SKU
(jittered per event) and is labelled as the node labels it: the reviewer's answer when fusion flagged the
event, fusion's own SKU only when the node's auto rule takes it (edge.node.gallery_feed.auto_label: calibrated
confidence >= 0.999), else not at all. The curve freezes each twin plate's gallery at 0, 10, 25, 50 and 100
labelled examples per SKU (as far as the day got) and scores fresh twin picks on p1-p4 whose crops show the
**test** photos (never tuned on) through fusion with the statistical camera and the appearance vote. Twice,
once per `[gallery] examples_from`: `plate` (the default: a plate's own crops) and `any_plate` (its SKUs'
crops from any plate). Fast in-process path: no daemon, no load-cell physics.

    scripts/bench gallery [--quick]
    .venv/bin/python -m bench.gallery --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.benchmark import Benchmark
from bench.gallery_day import SCOPES, Day, simulate_day, splitter_of, usable
from bench.gallery_tally import CurvePoint, PlatePoint, Tally, point_of
from bench.gallery_world import (
    CACHE,
    IMAGES,
    ITEMS,
    MODEL,
    PLATES,
    TWIN_OF,
    Example,
    Interaction,
    Looks,
    day_order,
    describe_cost,
    facings,
    run_fusion,
)
from edge.config.gallery import ExamplesFrom
from edge.sim.camera.photos import TEACH, TEST
from edge.vision.appearance_embed import DESCRIPTOR_KIND
from edge.vision.appearance_splitter import PlateSplitter, SplitterSettings

__all__ = ["BENCHMARK", "CHECKPOINTS", "CurvePoint", "GalleryResult", "PlatePoint", "PoisonRow", "ScopeRun",
           "SeedRun", "Tally", "run"]

CHECKPOINTS = (0, 10, 25, 50, 100)


@dataclass(frozen=True, slots=True)
class ScopeRun:
    """One seed's day and curve with one gallery scope (bench.gallery_day.SCOPES)."""

    scope: ExamplesFrom
    day_events: int
    day_review_rate: float           # all the day's events (teach photos, the live splitter)
    day_twin_review_rate: float      # the day's picks on the twin plates
    day_precision: float | None      # of the day's accepted events
    labels: tuple[tuple[str, int, int], ...]  # per SKU: (sku, auto, review) crops its twin plate's splitter may use
    labels_elsewhere: int            # labelled crops the scope leaves out (taken on another plate)
    refreshes: int
    curve: tuple[CurvePoint, ...]
    trusted_after: tuple[tuple[str, int | None], ...]  # plate -> usable examples per SKU when first trusted


@dataclass(frozen=True, slots=True)
class PoisonRow:
    run: str
    wrong_labels: int        # examples admitted with a wrong label
    refused: int             # auto examples the trusted splitter refused at admission
    refused_right: int       # of them, examples whose label was right (a loss, not a catch)
    cleaned: int             # examples left out by the cleaning at the end
    examples: int            # per SKU
    held_out_accuracy: float  # nearest-centre accuracy on the test photos, plates p1-p3 (trust gate off)
    held_out_all: float      # the same, all four plates
    trusted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeedRun:
    seed: int
    scopes: tuple[ScopeRun, ...]
    poison: tuple[PoisonRow, ...]  # empty past the first `poison_runs` seeds
    poison_scope: ExamplesFrom


@dataclass(frozen=True, slots=True)
class GalleryResult:
    seeds: tuple[int, ...]
    runs: tuple[SeedRun, ...]
    day_per_sku: int                 # picks per SKU in the day (both facings)
    twin_share: float                # share of a SKU's picks taken from its twin plate
    crops_per_event: int
    eval_per_sku: int
    backbone: bool
    embed_ms_per_crop: float | None  # median over the crops described in this run (None: all from the cache)
    described: int                   # examples described in this run
    cached: int                      # examples read from the descriptor cache
    describe_ms: tuple[tuple[str, float], ...]  # per descriptor kind, ms per crop on the same crops, interleaved
    vote_ms: float
    fusion_cpu_ms: tuple[tuple[float, float], tuple[float, float]]  # (median, p95) without / with the factor
    gallery_mb_per_100: float        # 100 examples per SKU, all SKUs: crops (JPEG) + descriptors
    descriptor_floats: int
    descriptor: str
    load: tuple[float, float, float]
    load_end: tuple[float, float, float]
    elapsed_s: float

    def scope(self, scope: str) -> list[ScopeRun]:
        return [s for r in self.runs for s in r.scopes if s.scope == scope]

    def pooled(self, scope: str, examples: int, plates: Sequence[str] | None = None) -> tuple[Tally, int]:
        """(the curve point summed over the seeds that reached it, how many did)."""
        points = [p for s in self.scope(scope) for p in s.curve if p.examples == examples and p.reached]
        return sum((p.tally(plates) for p in points), Tally()), len(points)


def _scope_run(order: Sequence[Interaction], eval_order: Sequence[Interaction], scope: ExamplesFrom, seed: int,
               timings: dict[int, tuple[float, float]] | None) -> tuple[ScopeRun, Day]:
    day = simulate_day(order, scope, seed)
    gallery = day.gallery
    per_sku = {item.sku: usable(gallery, item.sku, plate, scope) for plate, pair in PLATES for item in pair}
    curve: list[CurvePoint] = []
    for n in CHECKPOINTS:
        if n and min(len(v) for v in per_sku.values()) < n:
            curve.append(CurvePoint.not_reached(n))
            continue
        first = [c for v in per_sku.values() for c in v[:n]]
        reached_at = max((v[n - 1].event for v in per_sku.values()), default=0) if n else 0
        splitter = splitter_of(gallery, n, scope, SplitterSettings()) if n else None
        outcomes = run_fusion(eval_order, splitter, seed + 2000, seed + 3000)
        curve.append(point_of(n, reached_at, sum(c.source == "auto" for c in first),
                              sum(c.source == "review" for c in first), outcomes, splitter))
        if timings is not None:
            timings[n] = (float(np.median([o.fusion_ms for o in outcomes])),
                          float(np.percentile([o.fusion_ms for o in outcomes], 95)))
    trusted_after = []
    for plate, (a, b) in PLATES:
        most = min(len(per_sku[a.sku]), len(per_sku[b.sku]))
        steps = [*range(SplitterSettings().min_examples, min(most, 50) + 1, 2), *range(60, most + 1, 10)]
        first_trusted = next((n for n in steps if PlateSplitter(
            plate, {s.sku: [c.example.descriptor for c in per_sku[s.sku][:n]] for s in (a, b)}).report.trusted), None)
        trusted_after.append((plate, first_trusted))
    twin_plates = {p for p, _ in PLATES}
    twin = [o for o in day.outcomes if o.plate in twin_plates]
    accepted = [o for o in day.outcomes if not o.review]
    labels = tuple((sku, sum(c.source == "auto" for c in v), sum(c.source == "review" for c in v))
                   for sku, v in per_sku.items())
    elsewhere = sum(len(v) for v in gallery.values()) - sum(len(v) for v in per_sku.values())
    return ScopeRun(scope, len(day.outcomes), sum(o.review for o in day.outcomes) / len(day.outcomes),
                    sum(o.review for o in twin) / max(1, len(twin)),
                    None if not accepted else 1 - sum(not o.correct for o in accepted) / len(accepted),
                    labels, elsewhere, day.refreshes, tuple(curve), tuple(trusted_after)), day


def _held_out(day: Day, n: int, tests: dict[str, list[Example]], guard: bool) -> tuple[float, float, int]:
    base = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
    ungated = splitter_of(day.gallery, n, day.scope, SplitterSettings(
        min_accuracy=0.0, min_margin=0.0, clean=base.clean, trim=base.trim))
    right: dict[str, list[bool]] = {plate: [] for plate, _ in PLATES}
    for sku, examples in tests.items():
        plate = next(p for p, pair in PLATES if sku in (pair[0].sku, pair[1].sku))
        for example in examples:
            vote = ungated.vote(plate, example.descriptor, (sku, TWIN_OF[sku]))
            right[plate].append(vote is not None and vote.sku == sku)
    three = [r for p in ("p1", "p2", "p3") for r in right[p]]
    every = [r for rows in right.values() for r in rows]
    cleaned = sum(sum(s.report.cleaned.values()) for s in ungated.plates.values())
    return float(np.mean(three)), float(np.mean(every)), cleaned


def _poison(order: Sequence[Interaction], tests: dict[str, list[Example]], seed: int, rate: float, clean: Day
            ) -> tuple[PoisonRow, ...]:
    rows = []
    runs = (("clean labels, guard on", 0.0, True), (f"{rate:.0%} wrong, guard on", rate, True),
            ("clean labels, guard off", 0.0, False), (f"{rate:.0%} wrong, guard off", rate, False))
    for name, share, guard in runs:
        day = clean if (share, guard) == (0.0, True) else simulate_day(order, clean.scope, seed, share, guard)
        n = min(len(usable(day.gallery, item.sku, plate, day.scope)) for plate, pair in PLATES for item in pair)
        three, every, cleaned = _held_out(day, n, tests, guard)
        settings = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
        trusted = tuple(p for p, s in splitter_of(day.gallery, n, day.scope, settings).plates.items()
                        if s.report.trusted)
        rows.append(PoisonRow(name, day.wrong, day.refused, day.refused_right, cleaned, n, three, every, trusted))
    return tuple(rows)


def run(seeds: Sequence[int] = (301, 302, 303), day_per_sku: int = 200, eval_per_sku: int = 40,
        crops_per_event: int = 2, twin_share: float = 0.5, poison: float = 0.02, poison_runs: int = 1,
        scopes: Sequence[ExamplesFrom] = SCOPES, backbone: bool = True, descriptor: str = DESCRIPTOR_KIND,
        cache: bool = True) -> GalleryResult:
    """The day, curve and onset per seed and scope; poisoning on the first `poison_runs` seeds, with the first
    scope (the node's, by default); the cost on the first seed. `cache`: descriptors of jittered crops kept
    under build/ (keyed by the arguments, the descriptor's code, model and photos), so a second run describes
    nothing again."""
    began = time.perf_counter()
    load = os.getloadavg()
    looks = Looks(IMAGES, MODEL if backbone else None, crops_per_event, descriptor, CACHE if cache else None)
    runs: list[SeedRun] = []
    timings: dict[int, tuple[float, float]] = {}
    gallery_mb = 0.0
    for k, seed in enumerate(seeds):
        day = {item.sku: looks.examples(item, TEACH, day_per_sku, seed) for item in ITEMS}
        order = facings(day_order(day, seed), seed, twin_share)
        tests = {item.sku: looks.examples(item, TEST, eval_per_sku, seed + 1000) for item in ITEMS}
        eval_order = day_order(tests, seed + 1000)
        done = [_scope_run(order, eval_order, scope, seed, timings if k == 0 and i == 0 else None)
                for i, scope in enumerate(scopes)]
        rows = _poison(order, tests, seed, poison, done[0][1]) if k < poison_runs else ()
        runs.append(SeedRun(seed, tuple(s for s, _ in done), rows, scopes[0]))
        if k == 0:
            examples = [e for v in day.values() for e in v[:100]]
            gallery_mb = sum(e.jpeg_bytes + e.descriptor.nbytes for e in examples) * 100 / max(
                1, min(len(v[:100]) for v in day.values())) / 1e6
    final = splitter_of(done[-1][1].gallery, None, scopes[-1], SplitterSettings())
    probe = looks.examples(ITEMS[0], TEST, eval_per_sku, seeds[-1] + 1000)[0].descriptor
    start = time.perf_counter()
    for _ in range(200):
        final.vote("p1", probe, (ITEMS[0].sku, ITEMS[1].sku))
    vote_ms = (time.perf_counter() - start) / 200 * 1000
    costs = describe_cost(looks)
    return GalleryResult(
        tuple(seeds), tuple(runs), day_per_sku, twin_share, crops_per_event, eval_per_sku, looks.backbone,
        statistics.median(looks.embed_ms) if looks.embed_ms else None,
        len(looks.embed_ms) // max(1, crops_per_event), looks.cached, tuple(sorted(costs.items())), vote_ms,
        (timings[0], timings[max(timings)]) if timings else ((0.0, 0.0), (0.0, 0.0)), gallery_mb,
        int(probe.size), descriptor, load, os.getloadavg(), time.perf_counter() - began)


def unavailable() -> str | None:
    if not MODEL.is_file() or not IMAGES.is_dir():
        return f"needs the shared model and photos ({MODEL.parent}, {IMAGES})"
    return None


def render_markdown(result: GalleryResult) -> str:
    from bench.gallery_report import render

    return render(result)


BENCHMARK = Benchmark(
    name="gallery", title="gallery: same-label twins split by the self-learned appearance model; poisoning guard",
    run=run, render=render_markdown,
    quick={"seeds": [301], "day_per_sku": 40, "eval_per_sku": 10, "crops_per_event": 1},
    full={"seeds": [301, 302, 303], "day_per_sku": 200, "eval_per_sku": 40, "crops_per_event": 2},
    detail="bench/gallery.md",
    unavailable=unavailable,
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, action="append", help="a seed (repeat for more); default the mode's")
    args = parser.parse_args(argv)
    params = BENCHMARK.params(args.quick)
    if args.seed:
        params["seeds"] = args.seed
    print(render_markdown(run(**params)))


if __name__ == "__main__":
    main()
