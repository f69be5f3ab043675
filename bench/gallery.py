"""Gallery: same-label twins split by a self-learned appearance model, as the gallery grows; and a
self-labelling loop fed 2 % wrong labels, with and without the poisoning guard.

A simulated day on four plates of same-label twins (bench/gallery_world.py: apples of 182 g and 185 g,
two juice brands and two yoghurts of one weight, two milks of one brand). Each interaction is a pick whose
crop shows a **teach** photo of its SKU (jittered per event); every event's crop joins the gallery with a
label: the reviewer's answer when it was flagged, fusion's answer when it was accepted (wrong 2 % of the
time in the poisoned runs). The curve freezes the gallery at 0, 10, 25, 50 and 100 examples per SKU and
scores fresh twin events whose crops show the **test** photos (never tuned on) through fusion with the
statistical camera and the appearance vote. Fast in-process path: no daemon, no load-cell physics.

    scripts/bench gallery [--quick]
    .venv/bin/python -m bench.gallery --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.benchmark import Benchmark
from bench.gallery_world import (
    IMAGES,
    ITEMS,
    MODEL,
    PLATE_OF,
    PLATES,
    TWIN_OF,
    Example,
    Looks,
    Outcome,
    day_order,
    describe_cost,
    run_fusion,
)
from edge.sim.camera.photos import TEACH, TEST
from edge.vision.appearance_embed import DESCRIPTOR_KIND
from edge.vision.appearance_splitter import AppearanceSplitter, SplitterSettings

CHECKPOINTS = (0, 10, 25, 50, 100)
REFRESH = 10  # the node rebuilds a plate's splitter after this many new examples
Gallery = dict[str, list[Example]]  # sku -> examples, oldest first


@dataclass(frozen=True, slots=True)
class PlatePoint:
    plate: str
    trusted: bool
    loo_accuracy: float | None
    review_rate: float
    accepted: int
    accepted_wrong: int


@dataclass(frozen=True, slots=True)
class CurvePoint:
    examples: int            # per SKU in the gallery
    events: int              # twin events scored (test photos)
    review_rate: float
    accepted: int
    accepted_wrong: int
    votes: int
    votes_untrusted: int     # votes on a plate whose leave-one-out check had not passed (must be 0)
    plates: tuple[PlatePoint, ...]

    @property
    def precision(self) -> float | None:
        return None if not self.accepted else 1 - self.accepted_wrong / self.accepted


@dataclass(frozen=True, slots=True)
class PoisonRow:
    run: str
    wrong_labels: int        # examples admitted with a wrong label
    refused: int             # examples the trusted splitter refused at admission
    refused_right: int       # of them, examples whose label was right (a loss, not a catch)
    cleaned: int             # examples left out by the cleaning at the end
    examples: int            # per SKU
    held_out_accuracy: float  # nearest-centre accuracy on the test photos, plates p1-p3 (trust gate off)
    held_out_all: float      # the same, all four plates
    trusted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GalleryResult:
    seed: int
    crops_per_event: int
    eval_per_sku: int
    backbone: bool
    day_events: int
    day_review_rate: float
    day_precision: float | None
    curve: tuple[CurvePoint, ...]
    trusted_after: tuple[tuple[str, int | None], ...]  # plate -> examples per SKU when first trusted
    poison: tuple[PoisonRow, ...]
    embed_ms_per_crop: float
    describe_ms: tuple[tuple[str, float], ...]  # per descriptor kind, ms per crop on the same crops, interleaved
    vote_ms: float
    fusion_cpu_ms: tuple[tuple[float, float], tuple[float, float]]  # (median, p95) without / with the factor
    gallery_mb_per_100: float            # 100 examples per SKU, all SKUs: crops (JPEG) + descriptors
    descriptor_floats: int
    descriptor: str
    load: tuple[float, float, float]
    elapsed_s: float


def _splitter(gallery: Gallery, n: int | None, settings: SplitterSettings) -> AppearanceSplitter:
    by_plate: dict[str, dict[str, list[np.ndarray]]] = {plate: {} for plate, _ in PLATES}
    for sku, examples in gallery.items():
        by_plate[PLATE_OF[sku]][sku] = [e.descriptor for e in (examples if n is None else examples[:n])]
    return AppearanceSplitter(by_plate, settings)


def simulate_day(looks: Looks, per_sku: int, seed: int, poison: float,
                 guard: bool) -> tuple[Gallery, list[Outcome], int, int, int]:
    """The day: events in chunks of REFRESH through fusion with the splitter of the gallery so far; each event's
    crop joins the gallery with the reviewer's (flagged) or fusion's (accepted) label, flipped to the twin with
    probability `poison`. With `guard`, a trusted splitter refuses examples it confidently disagrees with and
    the splitter cleans and trims its gallery; without, neither."""
    settings = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
    day = {item.sku: looks.examples(item, TEACH, per_sku, seed) for item in ITEMS}
    order = day_order(day, seed)
    rng = np.random.default_rng([seed, 0xBAD])
    gallery: Gallery = {item.sku: [] for item in ITEMS}
    outcomes: list[Outcome] = []
    wrong = refused = refused_right = 0
    for start in range(0, len(order), REFRESH):
        splitter = _splitter(gallery, None, settings)
        chunk = order[start:start + REFRESH]
        results = run_fusion(chunk, splitter, seed + start, seed * 7 + start)
        outcomes += results
        for interaction, outcome in zip(chunk, results, strict=True):
            label = interaction.sku if outcome.review or outcome.answer is None else outcome.answer
            if rng.random() < poison:
                label = TWIN_OF[interaction.sku]
            plate = splitter.plates[PLATE_OF[label]]
            if guard and not plate.admits(label, interaction.example.descriptor):
                refused += 1
                refused_right += label == interaction.sku
                continue
            wrong += label != interaction.sku
            gallery[label].append(replace(interaction.example, sku=label))
    return gallery, outcomes, wrong, refused, refused_right


def _held_out(gallery: Gallery, n: int, tests: dict[str, list[Example]], guard: bool) -> tuple[float, float, int]:
    base = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
    ungated = _splitter(gallery, n, replace(base, min_accuracy=0.0, min_margin=0.0))
    right: dict[str, list[bool]] = {plate: [] for plate, _ in PLATES}
    for sku, examples in tests.items():
        plate = PLATE_OF[sku]
        for example in examples:
            vote = ungated.vote(plate, example.descriptor, (sku, TWIN_OF[sku]))
            right[plate].append(vote is not None and vote.sku == sku)
    three = [r for p in ("p1", "p2", "p3") for r in right[p]]
    every = [r for rows in right.values() for r in rows]
    cleaned = sum(sum(s.report.cleaned.values()) for s in ungated.plates.values())
    return float(np.mean(three)), float(np.mean(every)), cleaned


def _point(n: int, outcomes: Sequence[Outcome], splitter: AppearanceSplitter | None) -> CurvePoint:
    plates = []
    for plate, _ in PLATES:
        rows = [o for o in outcomes if o.plate == plate]
        report = splitter.plates[plate].report if splitter else None
        accepted = [o for o in rows if not o.review]
        plates.append(PlatePoint(plate, bool(report and report.trusted), report.accuracy if report else None,
                                 sum(o.review for o in rows) / len(rows), len(accepted),
                                 sum(not o.correct for o in accepted)))
    accepted = [o for o in outcomes if not o.review]
    trusted = {p.plate for p in plates if p.trusted}
    return CurvePoint(n, len(outcomes), sum(o.review for o in outcomes) / len(outcomes), len(accepted),
                      sum(not o.correct for o in accepted), sum(o.voted for o in outcomes),
                      sum(o.voted and o.plate not in trusted for o in outcomes), tuple(plates))


def run(seed: int = 301, per_sku: int = 100, eval_per_sku: int = 40, crops_per_event: int = 2,
        poison: float = 0.02, backbone: bool = True, descriptor: str = DESCRIPTOR_KIND) -> GalleryResult:
    began = time.perf_counter()
    load = os.getloadavg()
    looks = Looks(IMAGES, MODEL if backbone else None, crops_per_event, descriptor)
    gallery, day, _, _, _ = simulate_day(looks, per_sku, seed, 0.0, True)
    tests = {item.sku: looks.examples(item, TEST, eval_per_sku, seed + 1000) for item in ITEMS}
    eval_order = day_order(tests, seed + 1000)
    curve: list[CurvePoint] = []
    fusion_ms: dict[int, tuple[float, float]] = {}
    for n in (c for c in CHECKPOINTS if c <= per_sku):
        splitter = _splitter(gallery, n, SplitterSettings()) if n else None
        outcomes = run_fusion(eval_order, splitter, seed + 2000, seed + 3000)
        curve.append(_point(n, outcomes, splitter))
        fusion_ms[n] = (float(np.median([o.fusion_ms for o in outcomes])),
                        float(np.percentile([o.fusion_ms for o in outcomes], 95)))
    trusted_after = []
    for plate, _ in PLATES:
        first = next((n for n in range(SplitterSettings().min_examples, per_sku + 1, 2)
                      if _splitter(gallery, n, SplitterSettings()).plates[plate].report.trusted), None)
        trusted_after.append((plate, first))
    poison_rows = []
    runs = (("clean labels, guard on", 0.0, True), (f"{poison:.0%} wrong, guard on", poison, True),
            ("clean labels, guard off", 0.0, False), (f"{poison:.0%} wrong, guard off", poison, False))
    for name, rate, guard in runs:
        g, _, wrong, refused, refused_right = (gallery, [], 0, 0, 0) if (rate, guard) == (0.0, True) else \
            simulate_day(looks, per_sku, seed, rate, guard)
        n = min(len(v) for v in g.values())
        three, every, cleaned = _held_out(g, n, tests, guard)
        settings = SplitterSettings() if guard else SplitterSettings(clean=False, trim=1.0)
        trusted = tuple(p for p, s in _splitter(g, n, settings).plates.items() if s.report.trusted)
        poison_rows.append(PoisonRow(name, wrong, refused, refused_right, cleaned, n, three, every, trusted))
    final = _splitter(gallery, per_sku, SplitterSettings())
    probe = tests[ITEMS[0].sku][0].descriptor
    start = time.perf_counter()
    for _ in range(200):
        final.vote("p1", probe, (ITEMS[0].sku, ITEMS[1].sku))
    vote_ms = (time.perf_counter() - start) / 200 * 1000
    costs = describe_cost(looks)
    bytes_100 = sum(e.jpeg_bytes + e.descriptor.nbytes for v in gallery.values() for e in v[:100])
    scale = 100 / max(1, min(len(v) for v in gallery.values()))
    accepted = [o for o in day if not o.review]
    return GalleryResult(
        seed, crops_per_event, eval_per_sku, looks.backbone, len(day),
        sum(o.review for o in day) / len(day),
        None if not accepted else 1 - sum(not o.correct for o in accepted) / len(accepted),
        tuple(curve), tuple(trusted_after), tuple(poison_rows), statistics.median(looks.embed_ms),
        tuple(sorted(costs.items())), vote_ms, (fusion_ms[0], fusion_ms[max(fusion_ms)]), bytes_100 * scale / 1e6,
        int(probe.size), descriptor, load, time.perf_counter() - began)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def render_markdown(r: GalleryResult) -> str:
    lines = [
        f"Seed {r.seed}; {r.day_events} day events (teach photos), {r.eval_per_sku} test-photo twin events per SKU "
        f"per point, {r.crops_per_event} crops per event, descriptor {r.descriptor} ({r.descriptor_floats} floats, "
        f"{'colour + backbone' if r.backbone else 'colour only'}). Fast in-process path (no daemon). "
        f"Load average at the start {' / '.join(f'{v:.2f}' for v in r.load)}; {r.elapsed_s:.0f} s.", "",
        "| examples per SKU | twin review rate | accepted | wrong | precision (accepted) | votes | votes on "
        "untrusted plates | trusted plates |", "|---|---|---|---|---|---|---|---|"]
    for p in r.curve:
        trusted = ", ".join(x.plate for x in p.plates if x.trusted) or "none"
        lines.append(f"| {p.examples} | {_pct(p.review_rate)} | {p.accepted} | {p.accepted_wrong} | "
                     f"{_pct(p.precision)} | {p.votes} | {p.votes_untrusted} | {trusted} |")
    lines += ["", "Per plate (review rate / leave-one-out accuracy):", "",
              "| examples per SKU | " + " | ".join(p for p, _ in PLATES) + " |", "|---|" + "---|" * len(PLATES)]
    for p in r.curve:
        cells = [f"{_pct(x.review_rate)} / {'-' if x.loo_accuracy is None else f'{x.loo_accuracy:.3f}'}"
                 for x in p.plates]
        lines.append(f"| {p.examples} | " + " | ".join(cells) + " |")
    onset = ", ".join(f"{plate}: {'never' if n is None else n}" for plate, n in r.trusted_after)
    lines += ["", f"Examples per SKU before the splitter was first trusted: {onset}.",
              f"During the day itself (teach photos, the live splitter): review rate {_pct(r.day_review_rate)}, "
              f"precision on accepted {_pct(r.day_precision)}.", "",
              "Poisoning (the whole day again; held-out accuracy = nearest robust centre on the test photos, trust "
              "gate off):", "",
              "| run | wrong labels admitted | refused at admission (of them right) | cleaned | examples per SKU | "
              "held-out accuracy p1-p3 | all plates | trusted |", "|---|---|---|---|---|---|---|---|"]
    for row in r.poison:
        lines.append(f"| {row.run} | {row.wrong_labels} | {row.refused} ({row.refused_right}) | {row.cleaned} | "
                     f"{row.examples} | "
                     f"{_pct(row.held_out_accuracy)} | {_pct(row.held_out_all)} | {', '.join(row.trusted) or 'none'} |")
    same = ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in r.describe_ms)
    lines += ["", f"Cost: {r.embed_ms_per_crop:.1f} ms per crop to describe (colour + one detector invoke on the "
              f"crop), x{r.crops_per_event} per event (the kinds on the same crops, interleaved, median per crop: "
              f"{same}); the vote {r.vote_ms:.3f} ms; fusion CPU time per event "
              f"(median / p95) {r.fusion_cpu_ms[0][0]:.2f} / {r.fusion_cpu_ms[0][1]:.2f} ms without the appearance "
              f"factor, {r.fusion_cpu_ms[1][0]:.2f} / {r.fusion_cpu_ms[1][1]:.2f} ms with it (same events); "
              f"gallery {r.gallery_mb_per_100:.1f} MB for 100 examples of each of {len(ITEMS)} SKUs "
              "(128x128 JPEG crops + descriptors)."]
    return "\n".join(lines)


def unavailable() -> str | None:
    if not MODEL.is_file() or not IMAGES.is_dir():
        return f"needs the shared model and photos ({MODEL.parent}, {IMAGES})"
    return None


BENCHMARK = Benchmark(
    name="gallery", title="gallery: same-label twins split by the self-learned appearance model; poisoning guard",
    run=run, render=render_markdown,
    quick={"per_sku": 50, "eval_per_sku": 10, "crops_per_event": 1},
    full={"per_sku": 100, "eval_per_sku": 40, "crops_per_event": 2},
    detail="bench/gallery.md",
    unavailable=unavailable,
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=301)
    args = parser.parse_args(argv)
    print(render_markdown(run(seed=args.seed, **BENCHMARK.params(args.quick))))


if __name__ == "__main__":
    main()
