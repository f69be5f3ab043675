"""The fusion benchmark's typed result (FusionResult, one Pooled per model and rate) and its markdown report
(bench/fusion.py runs it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.item_scoring import Judged, reliability, risk_coverage, wilson_upper


@dataclass(frozen=True, slots=True)
class Pooled:
    """One model's figures over every run at one sample rate (counts summed, rates recomputed)."""

    f1: float
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int
    events: int
    flagged: int
    unflagged: int
    unflagged_wrong: int
    correct: int
    review_rate: float
    precision_unflagged: float
    event_accuracy: float
    time_p95_ms: float  # fusion wall time per weight event (the timing pass: median of its passes per event)
    time_median_ms: float
    cpu_p95_ms: float  # this thread's CPU time per weight event (the timing pass)
    scoring_p95_ms: float = 0.0  # wall time per event measured once, while scoring (other work interleaved)
    timing_load: tuple[float, float, int] = (0.0, 0.0, 1)  # lowest, highest 1-min load average; cores


@dataclass(frozen=True)
class FusionResult:
    seeds: tuple[int, ...]
    seed_set: str  # "tune", "report" (every seed from that set) or "custom"
    rates: tuple[float, ...]
    interactions: int  # asked for, per seed and rate
    models: tuple[str, ...]
    wall_s: float
    runs: tuple[Mapping[str, Any], ...]  # per (seed, rate): the scorer's figures (bench.fusion_run.one_run)
    pooled: Mapping[float, Mapping[str, Pooled]]  # rate -> model -> figures
    mix: str = "stress"  # the interaction mix preset of these runs (edge.sim.fusion_mix.PRESETS)
    others: tuple[FusionResult, ...] = ()  # the same seeds and rates under further mixes (run(mixes=...))

    def fused(self, sps: float) -> Pooled:
        return self.pooled[sps]["fused"]


RISK_POINTS = (0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0)


@dataclass(frozen=True, slots=True)
class _Verdict:
    confidence: float
    review_required: bool


def _safe_coverage(judged: list[Judged], bound: float = 0.005) -> tuple[float, float]:
    """(coverage, confidence threshold) of the largest most-confident share with Wilson upper bound <= bound."""
    ranked = sorted(judged, key=lambda j: -j.event.confidence)
    best, threshold, errors = 0, 1.0, 0
    for k, verdict in enumerate(ranked, start=1):
        errors += not verdict.correct
        if wilson_upper(errors, k) <= bound:
            best, threshold = k, verdict.event.confidence
    return (best / len(ranked) if ranked else 0.0), threshold


def _judged(runs: Sequence[Mapping[str, Any]], model: str) -> list[Judged]:
    """Every run's (confidence, right, flagged) of one model, pooled."""
    return [Judged(_Verdict(c, f), ok, ()) for run in runs for c, ok, f in run["models"][model]["verdicts"]]

TARGETS = (  # fused, issue 12
    ("unit F1", "f1", ">=", 0.99),
    ("precision on unflagged", "precision_unflagged", ">=", 0.995),
    ("review rate", "review_rate", "<=", 0.05),
    ("fusion p95 ms per event", "time_p95_ms", "<=", 5.0),
)
SCENARIO_ROWS = ("weight_twin", "count_twin", "same_label_twin", "multi_unit", "misplaced", "across", "simultaneous",
                 "camera_down", "back_to_back", "restock")  # fmt: skip


def _f(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _met(value: float, op: str, target: float) -> str:
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "**missed**"


def _sum_review(runs: Sequence[Mapping[str, Any]], model: str, key: str, tag: str | None = None) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for run in runs:
        m = run["models"][model]
        part = m["tags"][tag] if tag else m[key]
        totals.update({k: part[k] for k in ("events", "flagged", "unflagged", "unflagged_wrong", "correct")})
    events, unflagged = totals["events"], totals["unflagged"]
    return {
        **totals,
        "review_rate": totals["flagged"] / events if events else 0.0,
        "precision_unflagged": 1 - totals["unflagged_wrong"] / unflagged if unflagged else 1.0,
        "accuracy": totals["correct"] / events if events else 1.0,
    }


def _scenario_accuracy(runs: Sequence[Mapping[str, Any]], models: list[str]) -> list[str]:
    """Event accuracy per scenario and model (all events, flagged or not: what each model answered)."""
    lines = ["", "Event accuracy per scenario, every model (flagged events count with their answer):", "",
             "| scenario | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]  # fmt: skip
    for tag in (*SCENARIO_ROWS, None):
        cells = [_f(_sum_review(runs, m, "plain", tag)["accuracy"], 3) for m in models]
        lines.append(f"| {tag or 'none of these'} | " + " | ".join(cells) + " |")
    return lines


Bin = tuple[float, float, int, float, float]  # low, high, events, mean confidence, accuracy


def _pooled_bins(runs: Sequence[Mapping[str, Any]], model: str) -> tuple[list[Bin], float]:
    rows, ece = reliability(_judged(runs, model))
    return [(r["low"], r["high"], int(r["events"]), r["confidence"], r["accuracy"]) for r in rows], ece


MIX_NOTES = {
    "store": "nearer a real store: twin plates chosen less often; each minimum share met with a margin",
    "stress": "4 of 5 plates hard: the twin plates chosen often, many misplaced put-backs",
}


def render_markdown(result: FusionResult) -> str:
    """Every mix of the run, the first (result) then result.others."""
    mixes = [result, *result.others]
    seeds = ", ".join(str(s) for s in result.seeds)
    wall = sum(r.wall_s for r in mixes)
    lines = [f"Seeds {seeds} ({result.seed_set}), {result.interactions} interactions per seed and rate; "
             f"mixes {', '.join(r.mix for r in mixes)}; wall {wall:g} s.", ""]  # fmt: skip
    for one in mixes:
        lines += _render_mix(one)
    return "\n".join(lines) + "\n"


def _render_mix(result: FusionResult) -> list[str]:
    runs = list(result.runs)
    mix = result.mix
    lines = [f"Mix `{mix}`: {MIX_NOTES.get(mix, '')}.", ""]
    for sps, models in result.pooled.items():
        subset = [r for r in runs if r["sps"] == float(sps)]
        interactions = sum(r["interactions"] for r in subset)
        lines += [f"### {mix} mix, {float(sps):g} SPS: {interactions} interactions over {len(subset)} planograms",
                  ""]
        lines += ["| model | unit F1 | unit precision | unit recall | events | event accuracy | review rate "
                  "| precision unflagged | wrong unflagged | ECE | fusion p95 ms (wall / CPU, timing pass) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for name, p in models.items():
            _, ece = _pooled_bins(subset, name)
            lines.append(
                f"| {name} | {_f(p.f1)} | {_f(p.precision)} | {_f(p.recall)} | {p.events} | "
                f"{_f(p.event_accuracy)} | {_f(p.review_rate)} | {_f(p.precision_unflagged)} | "
                f"{p.unflagged_wrong} | {_f(ece)} | "
                f"{p.time_p95_ms:.3f} / {p.cpu_p95_ms:.3f} |"
            )
        if "fused" in models:
            lines += _fused_detail(subset, models["fused"], models.get("fused_camera_off"))
        lines += _scenario_accuracy(subset, list(models))
    lines += ["", f"### {mix} mix: interactions with each tag, over the planograms (the same at every rate)", "",
              "| tag | interactions | share |", "|---|---|---|"]  # fmt: skip
    one_rate = [r for r in runs if r["sps"] == runs[0]["sps"]]
    total = sum(r["interactions"] for r in one_rate)
    shares: Counter[str] = Counter()
    for run in one_rate:
        shares.update(run["mix"])
    for tag, count in sorted(shares.items()):
        lines.append(f"| {tag} | {count} | {count / total:.3f} |")
    lines += ["", "Asked for: weight twins (`weight_twin or count_twin`) >= 10 %, same_label_twin >= 5 %, "
              "misplaced >= 5 %.", ""]
    lines += ["", f"### {mix} mix: per run (fused)", "", "| seed | SPS | interactions | weight events | item events "
              "| interactions no item event matched | item events matching no interaction | unit F1 "
              "| review rate | precision unflagged | ECE |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for run in runs:
        m = run["models"].get("fused")
        if m is None:
            continue
        lines.append(f"| {run['seed']} | {run['sps']:g} | {run['interactions']} | {run['weight_events']} | "
                     f"{m['review']['events']} | {m['truth_without_event']} | {m['events_without_truth']} | "
                     f"{_f(m['units']['f1'])} | {_f(m['review']['review_rate'])} | "
                     f"{_f(m['review']['precision_unflagged'])} | {_f(m['ece'])} |")  # fmt: skip
    camera = max(r["camera_ms_per_event"] for r in runs)
    fused = result.pooled[runs[0]["sps"]].get("fused") if runs else None
    if fused is not None:
        low, high, cores = fused.timing_load
        lines += ["", f"Fusion time per event: a timing pass of its own after scoring (bench.fusion_run.time_models): "
                  f"every model on the same events again, each event to every model in turn, "
                  f"{runs[0]['models']['fused'].get('timing_passes', 1)} passes, per event the median; "
                  f"1-minute load average {low:g}-{high:g} on {cores} cores during the passes. The same events "
                  f"timed once while scoring: fused p95 {fused.scoring_p95_ms:.3f} ms wall."]
    lines += ["", f"Statistical camera: at most {camera:.3f} ms per weight event (set-up included), wall clock."]
    shown = [f"seed {r['seed']}: {r['planogram']}" for r in runs if r["sps"] == runs[0]["sps"]]
    lines += ["", "Planograms: " + "; ".join(shown), ""]
    return lines


def _fused_detail(runs: list[Any], pooled: Pooled, blind: Pooled | None) -> list[str]:
    lines = ["", "Fused against the issue 12 targets:", "", "| target | value | |", "|---|---|---|"]
    for label, key, op, target in TARGETS:
        value = getattr(pooled, key)
        lines.append(f"| {label} {op} {target:g} | {_f(value)} | {_met(value, op, target)} |")
    plain = _sum_review(runs, "fused", "review_without_same_label_alternative")
    bound = wilson_upper(pooled.unflagged_wrong, pooled.unflagged)
    lines.append(f"| 95 % upper bound on the error of unflagged events <= 0.005 | {_f(bound)} | "
                 f"{_met(bound, '<=', 0.005)} |")  # fmt: skip
    lines.append(f"| review rate without a same-label alternative <= 0.01 | {_f(plain['review_rate'])} | "
                 f"{_met(plain['review_rate'], '<=', 0.01)} |")  # fmt: skip
    rows, ece = _pooled_bins(runs, "fused")
    lines.append(f"| ECE <= 0.02 | {_f(ece)} | {_met(ece, '<=', 0.02)} |")
    down = _sum_review(runs, "fused", "", "camera_down")
    lines.append(f"| camera down: precision unflagged >= 0.995 | {_f(down['precision_unflagged'])} "
                 f"({down['unflagged']} unflagged) | {_met(down['precision_unflagged'], '>=', 0.995)} |")  # fmt: skip
    if blind is not None:
        lines.append(f"| camera off for the whole run: precision unflagged >= 0.995 | "
                     f"{_f(blind.precision_unflagged)} ({blind.unflagged} unflagged, review rate "
                     f"{_f(blind.review_rate)}) | {_met(blind.precision_unflagged, '>=', 0.995)} |")  # fmt: skip
    flagged = sum(r["models"]["fused"]["same_label_truth_flagged"] for r in runs)
    same = sum(r["models"]["fused"]["same_label_truth_events"] for r in runs)
    lines.append(f"| same-label-twin truth events flagged (the statistical camera never splits them) | "
                 f"{flagged} / {same} | {'met' if flagged == same else '**missed**'} |")  # fmt: skip
    lines += ["", "Reliability (fused, pooled):", "", "| confidence bin | events | mean confidence | accuracy |",
              "|---|---|---|---|"]  # fmt: skip
    for low, high, n, confidence, accuracy in rows:
        lines.append(f"| [{low:g}, {high:g}) | {n} | {_f(confidence)} | {_f(accuracy)} |")
    lines += ["", "Risk-coverage (fused, pooled; accept the most confident share, whatever the review flag):", "",
              "| coverage | accepted | risk | risk 95 % upper | confidence threshold |",
              "|---|---|---|---|---|"]  # fmt: skip
    for point in risk_coverage(_judged(runs, "fused"), RISK_POINTS):
        lines.append(f"| {point['coverage']:g} | {point['accepted']} | {_f(point['risk'])} | "
                     f"{_f(point['risk_upper95'])} | {_f(point['threshold'])} |")  # fmt: skip
    coverage, threshold = _safe_coverage(_judged(runs, "fused"))
    lines += ["", f"On these events, the largest coverage whose 95 % upper error bound stays <= 0.5 % is "
              f"{coverage:.3f} (confidence >= {threshold:.4f}); flags not counted."]  # fmt: skip
    lines += ["", "Per scenario (fused; events whose truth carries the tag):", "",
              "| scenario | events | unit F1 | review rate | precision unflagged | wrong unflagged |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for tag in SCENARIO_ROWS:
        row = _sum_review(runs, "fused", "", tag)
        f1s = [r["models"]["fused"]["tags"][tag]["f1"] for r in runs if r["models"]["fused"]["tags"][tag]["events"]]
        f1 = sum(f1s) / len(f1s) if f1s else 0.0
        lines.append(f"| {tag} | {row['events']} | {_f(f1)} (mean of runs) | {_f(row['review_rate'])} | "
                     f"{_f(row['precision_unflagged'])} | {row['unflagged_wrong']} |")  # fmt: skip
    plain = _sum_review(runs, "fused", "plain")
    lines.append(f"| none of these | {plain['events']} | | {_f(plain['review_rate'])} | "
                 f"{_f(plain['precision_unflagged'])} | {plain['unflagged_wrong']} |")  # fmt: skip
    reasons: Counter[str] = Counter()
    for run in runs:
        reasons.update(run["models"]["fused"]["reasons"])
    lines += ["", "Review reasons (fused): " + ", ".join(f"{k} {v}" for k, v in reasons.most_common())]
    return lines
