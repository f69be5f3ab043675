"""Item fusion on simulated shelves: fused against AIM3S, AutoCheckout 2020, weight + planogram only and
vision only, on the same weight events in the same run.

Per planogram seed and sample rate: design a shelf with twins (edge.sim.shelf_design), generate
interactions (edge.sim.fusion_mix), render the capture, replay it through the node's parser +
Weigher (edge.node.replay.Replay, the shelf's true calibration), ask the statistical camera
(edge.sim.stat_camera) for each weight event's evidence, run every model on the same events and
score the item events against the truth (bench.item_scoring).

Seeds: `tune` (101, 102, 103) are for calibrating confidence and choosing thresholds; `report`
(201, 202, 203, the documented run) are the reported figures and were not used to tune.

    scripts/bench fusion                                       # report seeds, 700 interactions each, 10 + 80 SPS,
                                                               # the store mix and the stress mix
    .venv/bin/python -m bench.fusion --seeds tune --json t.json   # the tuning set (all options: --help)
    .venv/bin/python -m bench.fusion --seeds tune --models fused --dump /tmp/judged   # every verdict
    .venv/bin/python -m bench.fusion --seeds tune --mix store,stress    # both mixes (default: stress)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.benchmark import Benchmark
from bench.fusion_report import FusionResult, Pooled, render_markdown  # the typed result and its markdown
from bench.fusion_run import MODELS, one_run

SEEDS = {"tune": (101, 102, 103), "report": (201, 202, 203)}


def pooled(runs: Sequence[Mapping[str, Any]], model: str) -> Pooled:
    """Figures over all runs of one model (sums of counts, rates recomputed)."""
    units: Counter[str] = Counter()
    review: Counter[str] = Counter()
    for run in runs:
        m = run["models"][model]
        units.update({k: m["units"][k] for k in ("tp", "fp", "fn")})
        review.update({k: m["review"][k] for k in ("events", "flagged", "unflagged", "unflagged_wrong", "correct")})
    p = units["tp"] / max(1, units["tp"] + units["fp"])
    r = units["tp"] / max(1, units["tp"] + units["fn"])
    times = sorted(t for run in runs for t in run["models"][model]["times_ms"])
    cpu = sorted(t for run in runs for t in run["models"][model]["cpu_ms"])
    scoring = sorted(t for run in runs for t in run["models"][model].get("scoring_times_ms", ()))
    loads = [run["models"][model]["timing_load"] for run in runs if "timing_load" in run["models"][model]]
    return Pooled(
        f1=2 * p * r / (p + r) if p + r else 0.0, precision=p, recall=r,
        tp=units["tp"], fp=units["fp"], fn=units["fn"],
        events=review["events"], flagged=review["flagged"], unflagged=review["unflagged"],
        unflagged_wrong=review["unflagged_wrong"], correct=review["correct"],
        review_rate=review["flagged"] / max(1, review["events"]),
        precision_unflagged=1 - review["unflagged_wrong"] / max(1, review["unflagged"]),
        event_accuracy=review["correct"] / max(1, review["events"]),
        time_p95_ms=_p95(times), time_median_ms=statistics.median(times) if times else 0.0, cpu_p95_ms=_p95(cpu),
        scoring_p95_ms=_p95(scoring),
        timing_load=(min((min(a, b) for a, b, _ in loads), default=0.0),
                     max((max(a, b) for a, b, _ in loads), default=0.0), max((c for *_, c in loads), default=1)),
    )  # fmt: skip


def _p95(ordered: list[float]) -> float:
    """The 95th percentile of sorted values (the lower of the two around it); 0 when there are none."""
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def run(seeds: Sequence[int] | str = "report", rates: Sequence[float] = (10.0, 80.0), interactions: int = 700,
        models: Sequence[str] = MODELS, dump: Path | None = None,
        mixes: Sequence[str] = ("stress",), settings: Any = None) -> FusionResult:
    """Every (rate, seed) run, scored; `seeds` is a list or "tune" / "report". `mixes`: interaction mix
    presets ("store", "stress"); the first is the result, the others ride along in `others`. `settings`:
    FusionSettings for the fused models (default: the tuned ones)."""
    first, *rest = mixes
    others = tuple(_run_mix(seeds, rates, interactions, models, dump, mix, (), settings) for mix in rest)
    return _run_mix(seeds, rates, interactions, models, dump, first, others, settings)


def _run_mix(seeds: Sequence[int] | str, rates: Sequence[float], interactions: int, models: Sequence[str],
             dump: Path | None, mix: str, others: tuple[FusionResult, ...], settings: Any) -> FusionResult:
    chosen = SEEDS[seeds] if isinstance(seeds, str) else tuple(seeds)
    # seeds all from one set keep its name (the quick run's 201 is a report seed, not tuned on)
    seed_set = next((name for name, known in SEEDS.items() if set(chosen) <= set(known)), "custom")
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
    started = time.time()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-fusion-") as tmp:
        for sps in rates:
            for seed in chosen:
                runs.append(one_run(seed, sps, interactions, Path(tmp), tuple(models), dump, mix, settings))
    return FusionResult(
        seeds=tuple(chosen), seed_set=seed_set, rates=tuple(rates), interactions=interactions, models=tuple(models),
        wall_s=round(time.time() - started, 1), runs=tuple(runs),
        pooled={sps: {m: pooled([r for r in runs if r["sps"] == sps], m) for m in models} for sps in rates},
        mix=mix, others=others,
    )  # fmt: skip


def as_json(result: FusionResult) -> dict[str, Any]:
    return {**asdict(result), "pooled": {str(sps): {m: asdict(p) for m, p in models.items()}
                                         for sps, models in result.pooled.items()},
            "others": [as_json(other) for other in result.others]}  # fmt: skip


BENCHMARK = Benchmark(
    name="fusion",
    title="fusion: item events against the truth, with four comparators",
    run=run,
    render=render_markdown,
    quick={"seeds": (201,), "rates": (10.0,), "interactions": 80, "mixes": ("store",)},
    full={"seeds": "report", "rates": (10.0, 80.0), "interactions": 700, "mixes": ("store", "stress")},
    detail="bench/fusion.md",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="report", help="tune | report | comma-separated planogram seeds")
    parser.add_argument("--interactions", type=int, default=700, help="per planogram seed and rate")
    parser.add_argument("--rates", default="10,80", help="comma-separated samples per second")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--quick", action="store_true", help="the first seed, 80 interactions, 10 SPS")
    parser.add_argument("--json", type=Path, help="write the full results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the markdown report here")
    parser.add_argument("--dump", type=Path, help="write every judged item event (JSON lines) into this directory")
    parser.add_argument("--mix", default="stress",
                        help="interaction mix presets, comma-separated: store, stress (edge.sim.fusion_mix.PRESETS)")
    args = parser.parse_args(argv)
    seeds: tuple[int, ...] | str = args.seeds if args.seeds in SEEDS else tuple(int(s) for s in args.seeds.split(","))
    rates = tuple(float(r) for r in args.rates.split(","))
    interactions = args.interactions
    if args.quick:
        seeds = (SEEDS[seeds] if isinstance(seeds, str) else seeds)[:1]
        rates, interactions = (10.0,), 80
    result = run(seeds, rates, interactions, tuple(args.models.split(",")), args.dump, tuple(args.mix.split(",")))
    if args.json:
        args.json.write_text(json.dumps(as_json(result), indent=1, default=str) + "\n")
    text = render_markdown(result)
    if args.markdown:
        args.markdown.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
