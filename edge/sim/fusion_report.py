"""The markdown report of scripts/bench-fusion (tables from the results dictionary)."""

from __future__ import annotations

from collections import Counter
from typing import Any

TARGETS = (  # fused, issue 12
    ("unit F1", "f1", ">=", 0.99),
    ("precision on unflagged", "precision_unflagged", ">=", 0.995),
    ("review rate", "review_rate", "<=", 0.05),
    ("fusion p95 ms per event", "time_p95_ms", "<=", 5.0),
)
SCENARIO_ROWS = ("weight_twin", "same_label_twin", "multi_unit", "misplaced", "across", "simultaneous", "camera_down",
                 "back_to_back", "restock")  # fmt: skip


def _f(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _met(value: float, op: str, target: float) -> str:
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "**missed**"


def _sum_review(runs: list[dict[str, Any]], model: str, key: str, tag: str | None = None) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for run in runs:
        m = run["models"][model]
        part = m["tags"][tag] if tag else m[key]
        totals.update({k: part[k] for k in ("events", "flagged", "unflagged", "unflagged_wrong")})
    events, unflagged = totals["events"], totals["unflagged"]
    return {
        **totals,
        "review_rate": totals["flagged"] / events if events else 0.0,
        "precision_unflagged": 1 - totals["unflagged_wrong"] / unflagged if unflagged else 1.0,
    }


def _pooled_bins(runs: list[dict[str, Any]], model: str) -> tuple[list[tuple[float, float, int, float, float]], float]:
    bins: dict[tuple[float, float], list[float]] = {}
    for run in runs:
        for row in run["models"][model]["reliability"]:
            entry = bins.setdefault((row["low"], row["high"]), [0, 0.0, 0.0])
            entry[0] += row["events"]
            entry[1] += row["confidence"] * row["events"]
            entry[2] += row["accuracy"] * row["events"]
    total = sum(e[0] for e in bins.values())
    rows = [(low, high, int(n), c / n, a / n) for (low, high), (n, c, a) in sorted(bins.items()) if n]
    ece = sum(n / total * abs(a - c) for _, _, n, c, a in rows) if total else 0.0
    return rows, ece


def render_markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    lines = [f"Machine: {report['machine']}  ", f"Command: `{report['command']}` (wall {report['wall_s']} s)  ",
             f"Seeds: {report['seeds']} ({report['seed_set']})", ""]  # fmt: skip
    for sps, models in report["pooled"].items():
        subset = [r for r in runs if r["sps"] == float(sps)]
        interactions = sum(r["interactions"] for r in subset)
        lines += [f"### {float(sps):g} SPS: {interactions} interactions over {len(subset)} planograms", ""]
        lines += ["| model | unit F1 | unit precision | unit recall | events | event accuracy | review rate "
                  "| precision unflagged | wrong unflagged | ECE | fusion p95 ms (wall / CPU) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for name, p in models.items():
            _, ece = _pooled_bins(subset, name)
            lines.append(
                f"| {name} | {_f(p['f1'])} | {_f(p['precision'])} | {_f(p['recall'])} | {p['events']} | "
                f"{_f(p['event_accuracy'])} | {_f(p['review_rate'])} | {_f(p['precision_unflagged'])} | "
                f"{p['unflagged_wrong']} | {_f(ece)} | "
                f"{p['time_p95_ms']:.3f} / {p['cpu_p95_ms']:.3f} |"
            )
        if "fused" in models:
            lines += _fused_detail(subset, models["fused"])
    lines += ["", "### Mix (share of interactions with each tag, all runs)", "", "| tag | interactions | share |",
              "|---|---|---|"]  # fmt: skip
    total = sum(r["interactions"] for r in runs)
    mix: Counter[str] = Counter()
    for run in runs:
        mix.update(run["mix"])
    for tag, count in sorted(mix.items()):
        lines.append(f"| {tag} | {count} | {count / total:.3f} |")
    shown = [f"seed {r['seed']}: {r['planogram']}" for r in runs if r["sps"] == runs[0]["sps"]]
    lines += ["", "Planograms: " + "; ".join(shown)]
    return "\n".join(lines) + "\n"


def _fused_detail(runs: list[dict[str, Any]], pooled: dict[str, Any]) -> list[str]:
    lines = ["", "Fused against the issue 12 targets:", "", "| target | value | |", "|---|---|---|"]
    for label, key, op, target in TARGETS:
        lines.append(f"| {label} {op} {target:g} | {_f(pooled[key])} | {_met(pooled[key], op, target)} |")
    plain = _sum_review(runs, "fused", "review_without_same_label_alternative")
    lines.append(f"| review rate without a same-label alternative <= 0.01 | {_f(plain['review_rate'])} | "
                 f"{_met(plain['review_rate'], '<=', 0.01)} |")  # fmt: skip
    rows, ece = _pooled_bins(runs, "fused")
    lines.append(f"| ECE <= 0.02 | {_f(ece)} | {_met(ece, '<=', 0.02)} |")
    down = _sum_review(runs, "fused", "", "camera_down")
    lines.append(f"| camera down: precision unflagged >= 0.995 | {_f(down['precision_unflagged'])} "
                 f"({down['unflagged']} unflagged) | {_met(down['precision_unflagged'], '>=', 0.995)} |")  # fmt: skip
    flagged = sum(r["models"]["fused"]["same_label_truth_flagged"] for r in runs)
    same = sum(r["models"]["fused"]["same_label_truth_events"] for r in runs)
    lines.append(f"| same-label-twin truth events flagged (the statistical camera never splits them) | "
                 f"{flagged} / {same} | {'met' if flagged == same else '**missed**'} |")  # fmt: skip
    lines += ["", "Reliability (fused, pooled):", "", "| confidence bin | events | mean confidence | accuracy |",
              "|---|---|---|---|"]  # fmt: skip
    for low, high, n, confidence, accuracy in rows:
        lines.append(f"| [{low:g}, {high:g}) | {n} | {_f(confidence)} | {_f(accuracy)} |")
    lines += ["", "Risk-coverage (fused, per run: coverage -> risk, 95 % upper bound, threshold):", ""]
    for run in runs:
        points = ", ".join(f"{p['coverage']:g}: {p['risk']:.4f} (<= {p['risk_upper95']:.4f}, c >= {p['threshold']:.4f})"
                           for p in run["models"]["fused"]["risk_coverage"])  # fmt: skip
        lines.append(f"- seed {run['seed']}: {points}")
    lines += ["", "Per scenario (fused; events whose truth carries the tag):", "",
              "| scenario | events | unit F1 | review rate | precision unflagged | wrong unflagged |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for tag in SCENARIO_ROWS:
        row = _sum_review(runs, "fused", "", tag)
        f1s = [r["models"]["fused"]["tags"][tag]["f1"] for r in runs if r["models"]["fused"]["tags"][tag]["events"]]
        f1 = sum(f1s) / len(f1s) if f1s else 0.0
        lines.append(f"| {tag} | {row['events']} | {_f(f1)} (mean of runs) | {_f(row['review_rate'])} | "
                     f"{_f(row['precision_unflagged'])} | {row['unflagged_wrong']} |")  # fmt: skip
    reasons: Counter[str] = Counter()
    for run in runs:
        reasons.update(run["models"]["fused"]["reasons"])
    lines += ["", "Review reasons (fused): " + ", ".join(f"{k} {v}" for k, v in reasons.most_common())]
    return lines
