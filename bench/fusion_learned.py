"""Fusion with a node that has learned its shelf: the fusion benchmark's runs (bench.fusion_run.one_run: the
same weight events, the same statistical-camera label evidence, the same score()) for the cold node (`fused`:
no gallery, today's model) and the node whose appearance splitter (edge/vision/appearance_splitter.py) was
built from N self-labelled examples per SKU (`fused_learned_N`), side by side.

How much of the review rate (the `twin` reasons: same-label twins such as two apple varieties or two 1 L
cartons, and label-distinct twins whose label the camera did not see) does learning the shelf remove, and
does precision hold? Appearance: real product photos through the real descriptor code, teach half for the
gallery, held-out half for the events (bench/fusion_learned_world.py says which events carry one).

Seeds: the fusion benchmark's report seeds 201-203 (nothing was tuned on them here: the splitter's settings
are the shipped ones, chosen on teach photos; fusion's on the tuning seeds 101-103).

    scripts/bench fusion_learned [--quick]
    .venv/bin/python -m bench.fusion_learned --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.benchmark import Benchmark
from bench.fusion import SEEDS
from bench.fusion_learned_report import (
    SCENARIOS,
    Block,
    FusionLearnedResult,
    ModelFigures,
    ScenarioRow,
    Verdict,
    render_markdown,
)
from bench.fusion_learned_world import Appearance, learned_name, pools
from bench.gallery_world import IMAGES, MODEL
from bench.item_scoring import Judged, reliability, wilson_upper

HELD_OUT_POOL = 40  # held-out descriptors per photo family (events draw from them)
REVIEW_KEYS = ("events", "flagged", "unflagged", "unflagged_wrong", "correct")


def _sum(parts: Sequence[Mapping[str, Any]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update({k: int(part[k]) for k in REVIEW_KEYS})
    return total


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def figures(runs: Sequence[Mapping[str, Any]], model: str) -> ModelFigures:
    """One model's figures pooled over runs (counts summed, rates recomputed)."""
    scored = [run["models"][model] for run in runs]
    units: Counter[str] = Counter()
    for m in scored:
        units.update({k: m["units"][k] for k in ("tp", "fp", "fn")})
    p = units["tp"] / max(1, units["tp"] + units["fp"])
    r = units["tp"] / max(1, units["tp"] + units["fn"])
    review = _sum([m["review"] for m in scored])
    plain_alt = _sum([m["review_without_same_label_alternative"] for m in scored])
    verdicts = [Judged(Verdict(c, f), ok, ()) for m in scored for c, ok, f in m["verdicts"]]
    _, ece = reliability(verdicts)
    rows = []
    for tag in SCENARIOS:
        part = _sum([m["plain"] if tag is None else m["tags"][tag] for m in scored])
        rows.append(ScenarioRow(tag or "none of these", part["events"], part["flagged"], part["unflagged"],
                                part["unflagged_wrong"]))
    reasons: Counter[str] = Counter()
    for m in scored:
        reasons.update(m["reasons"])
    votes: Counter[str] = Counter()
    same: Counter[str] = Counter()
    for run in runs:
        extra = run.get("learned", {}).get(model)
        if extra:
            votes.update({k: extra[k] for k in ("votes", "votes_untrusted_plate", "votes_unchecked",
                                                "votes_cross_plate")})
            same.update(extra["same_label"])
    twin = sum(m["reasons"].get("twin", 0) for m in scored)
    first = [t for m in scored for t in m.get("scoring_times_ms", m["times_ms"])]
    return ModelFigures(
        model=model, f1=2 * p * r / (p + r) if p + r else 0.0, precision=p, recall=r,
        events=review["events"], flagged=review["flagged"], review_rate=review["flagged"] / max(1, review["events"]),
        plain_events=plain_alt["events"], plain_flagged=plain_alt["flagged"],
        review_rate_plain=plain_alt["flagged"] / max(1, plain_alt["events"]),
        unflagged=review["unflagged"], unflagged_wrong=review["unflagged_wrong"],
        precision_unflagged=1 - review["unflagged_wrong"] / max(1, review["unflagged"]),
        error_upper95=wilson_upper(review["unflagged_wrong"], review["unflagged"]), ece=ece,
        twin_flagged=twin,
        same_label_truth_flagged=sum(m["same_label_truth_flagged"] for m in scored),
        same_label_truth_events=sum(m["same_label_truth_events"] for m in scored),
        scenarios=tuple(rows), reasons=tuple(reasons.most_common()),
        votes=votes["votes"], votes_untrusted_plate=votes["votes_untrusted_plate"],
        votes_unchecked=votes["votes_unchecked"], votes_cross_plate=votes["votes_cross_plate"],
        same_label_on_trusted=same["on_trusted"], same_label_voted=same["voted"],
        same_label_split=same["unflagged_voted"], same_label_accepted=same["unflagged"],
        same_label_split_wrong=same["unflagged_wrong"],
        time_p95_ms=_p95([t for m in scored for t in m["times_ms"]]),
        cpu_p95_ms=_p95([t for m in scored for t in m["cpu_ms"]]),
        first_p95_ms=_p95(first), first_max_ms=max(first, default=0.0),
    )  # fmt: skip


def _commit() -> str:
    """HEAD when the run starts (the code it imports), "+ local changes" when bench/ or edge/ differ from it."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                              timeout=10, cwd=repo).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "bench", "edge"], capture_output=True,
                               text=True, check=False, timeout=10, cwd=repo).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + (" + local changes in bench/ or edge/" if dirty else "")


def run(seeds: Sequence[int] | str = "report", rates: Sequence[float] = (10.0, 80.0), interactions: int = 700,
        mixes: Sequence[str] = ("store",), examples: Sequence[int] = (50,), held_out: int = HELD_OUT_POOL,
        backbone: bool = True, dump: str | None = None) -> FusionLearnedResult:
    """Per mix, rate and seed one bench.fusion_run.one_run with `fused` and, through its `more_models` hook,
    `fused_learned_N` for each N in `examples`. `held_out`: descriptors per photo family the events draw from;
    `backbone` False: colour-only descriptors (no detector invoke; tests). `dump`: a directory for every judged
    item event of every model and run (bench.fusion_run.dump_judged, JSON lines `MODEL-SEED-SPS[-MIX].jsonl`)."""
    from bench.fusion_run import one_run

    chosen = SEEDS[seeds] if isinstance(seeds, str) else tuple(seeds)
    seed_set = next((name for name, known in SEEDS.items() if set(chosen) <= set(known)), "custom")
    began, load, commit = time.perf_counter(), os.getloadavg(), _commit()
    described = pools(max(examples), held_out, backbone)
    built_before = described.build_s
    appearance = Appearance(tuple(examples), described)
    runs: list[dict[str, Any]] = []
    if dump is not None:
        Path(dump).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-fusion-learned-") as tmp:
        for mix in mixes:
            for sps in rates:
                for seed in chosen:
                    one = one_run(seed, sps, interactions, Path(tmp), ("fused",), Path(dump) if dump else None,
                                  mix, None, more_models=appearance.models)
                    stats = appearance.stats[(mix, sps, seed)]
                    one["learned"] = stats["models"]
                    one["appearance"] = stats["appearance"]
                    runs.append(one)
    models = ("fused", *(learned_name(n) for n in examples))
    blocks = []
    for mix in mixes:
        for sps in rates:
            subset = [r for r in runs if r["mix_preset"] == mix and r["sps"] == sps]
            counts: Counter[str] = Counter()
            for r in subset:
                counts.update(r["appearance"])
            blocks.append(Block(mix, sps, sum(r["interactions"] for r in subset),
                                sum(r["weight_events"] for r in subset), tuple(figures(subset, m) for m in models),
                                tuple(sorted(counts.items()))))
    return FusionLearnedResult(
        seeds=tuple(chosen), seed_set=seed_set, rates=tuple(rates), interactions=interactions, mixes=tuple(mixes),
        examples=tuple(examples), backbone=described.looks.backbone, descriptor=described.kind(), blocks=tuple(blocks),
        planograms=tuple((r["seed"], r["mix_preset"], tuple((p, tuple(s)) for p, s in r["planogram"].items()))
                         for r in runs if r["sps"] == rates[0]),
        trusted=tuple((r["seed"], r["mix_preset"], m, tuple(r["learned"][m]["trusted_plates"]))
                      for r in runs if r["sps"] == rates[0] for m in models[1:]),
        families=tuple(described.families), teach_pool=described.teach_size, held_out_pool=described.held_out_size,
        pool_build_s=round(described.build_s - built_before, 1), embed_ms=described.embed_ms(),
        splitter_build_ms=statistics.median(appearance.split_ms) if appearance.split_ms else 0.0,
        load=load, load_end=os.getloadavg(), wall_s=round(time.perf_counter() - began, 1), commit=commit,
    )  # fmt: skip


def unavailable() -> str | None:
    if not MODEL.is_file() or not IMAGES.is_dir():
        return f"needs the shared model and photos ({MODEL.parent}, {IMAGES})"
    return None


BENCHMARK = Benchmark(
    name="fusion_learned",
    title="fusion_learned: the cold node against the node that learned its shelf (appearance splitter), same events",
    run=run,
    render=render_markdown,
    quick={"seeds": (201,), "rates": (10.0,), "interactions": 200, "mixes": ("store",), "examples": (50,)},
    full={"seeds": "report", "rates": (10.0, 80.0), "interactions": 700, "mixes": ("store", "stress"),
          "examples": (25, 50, 100)},
    opt_in=True,  # the full run: 646 s at load 2-4, 49 min at load 8-14 on the 2 shared cores (12 runs, 4 models)
    detail="bench/fusion-learned.md",
    unavailable=unavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="seed 201, 200 interactions, 10 SPS, store mix, N=50")
    args = parser.parse_args(argv)
    why = unavailable()
    if why:
        print(f"fusion_learned: {why}", file=sys.stderr)
        return 1
    print(render_markdown(BENCHMARK.execute(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
