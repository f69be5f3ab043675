"""The gallery benchmark's markdown (docs/benchmarks.md "gallery"): per scope, the curve pooled over the seeds
and per seed, per plate, for p1-p4 and p1-p3; the day's labels; the onset of trust; poisoning; cost."""

from __future__ import annotations

from bench.gallery import CHECKPOINTS, GalleryResult, ScopeRun
from bench.gallery_tally import CurvePoint, Tally
from bench.gallery_world import ITEMS, PLATES, SOLO

SCOPE_TITLE = {
    "plate": "**plate** (`[gallery] examples_from = \"plate\"`, the node's default: a twin plate's splitter learns "
             "from the crops taken on that plate)",
    "any_plate": "**any_plate** (`[gallery] examples_from = \"any_plate\"`: a twin plate's splitter also learns from "
                 "its SKUs' crops taken on their other facings)",
}
THREE = ("p1", "p2", "p3")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _tally(t: Tally) -> str:
    return f"{_pct(t.review_rate)} | {t.accepted} | {t.wrong} | {_pct(t.bound)}"


def _pooled_rows(r: GalleryResult, scope: str) -> list[str]:
    lines = ["| examples per SKU | seeds | labels auto / review (all SKUs, per seed) | day events to reach, per seed | "
             "p1-p4 review rate | accepted | wrong | 95 % bound | p1-p3 review rate | accepted | wrong | "
             "95 % bound |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    runs = r.scope(scope)
    for n in CHECKPOINTS:
        points = [next(p for p in s.curve if p.examples == n) for s in runs]
        four, seeds = r.pooled(scope, n)
        three, _ = r.pooled(scope, n, THREE)
        labels = ", ".join(f"{p.auto} / {p.review}" if p.reached else "-" for p in points)
        reached = ", ".join(str(p.reached_at) if p.reached else "not reached" for p in points)
        lines.append(f"| {n} | {seeds} of {len(points)} | {labels} | {reached} | {_tally(four)} | {_tally(three)} |")
    return lines


def _seed_rows(r: GalleryResult, scope: str) -> list[str]:
    lines = ["| seed | examples per SKU | " + " | ".join(f"{p} review / LOO" for p, _ in PLATES)
             + " | p1-p4 review | accepted | wrong | 95 % bound | p1-p3 review | accepted | wrong | 95 % bound | "
             "votes (untrusted) |", "|---|---|" + "---|" * (len(PLATES) + 9)]
    for run, s in zip(r.runs, r.scope(scope), strict=True):
        for p in s.curve:
            if not p.reached:
                lines.append(f"| {run.seed} | {p.examples} | not reached |" + " |" * (len(PLATES) + 8))
                continue
            cells = [f"{_pct(x.review_rate)} / {'-' if x.loo_accuracy is None else f'{x.loo_accuracy:.3f}'}"
                     for x in p.plates]
            lines.append(f"| {run.seed} | {p.examples} | " + " | ".join(cells) + f" | {_tally(p.tally())} | "
                         f"{_tally(p.tally(THREE))} | {p.votes} ({p.votes_untrusted}) |")
    return lines


def _day_rows(r: GalleryResult, scope: str) -> list[str]:
    lines = ["| seed | day events | review rate (all / twin plates) | precision accepted | usable labels per SKU "
             "auto / review: " + ", ".join(i.sku for i in ITEMS) + " | labelled crops it cannot use | splitter "
             "builds | examples per SKU before trusted |", "|---|---|---|---|---|---|---|---|"]
    for run, s in zip(r.runs, r.scope(scope), strict=True):
        labels = ", ".join(f"{auto}/{review}" for _, auto, review in s.labels)
        onset = ", ".join(f"{plate} {'never' if n is None else n}" for plate, n in s.trusted_after)
        lines.append(f"| {run.seed} | {s.day_events} | {_pct(s.day_review_rate)} / {_pct(s.day_twin_review_rate)} | "
                     f"{_pct(s.day_precision)} | {labels} | {s.labels_elsewhere} | {s.refreshes} | {onset} |")
    return lines


def _scope(r: GalleryResult, scope: str) -> list[str]:
    return [f"Scope {SCOPE_TITLE.get(scope, scope)}: twin events on p1-p4 (test photos), pooled over the seeds that "
            "reached the point (the bound: one-sided 95 % Clopper-Pearson on the accepted events' error):", "",
            *_pooled_rows(r, scope), "", "Per seed (review rate / leave-one-out accuracy per plate):", "",
            *_seed_rows(r, scope), "", "The day (teach photos, the live splitter):", "", *_day_rows(r, scope), ""]


def _poison(r: GalleryResult) -> list[str]:
    lines: list[str] = []
    for run in r.runs:
        if not run.poison:
            continue
        lines += [f"Poisoning, seed {run.seed}, scope {run.poison_scope} (the whole day again; held-out accuracy = "
                  "nearest robust centre on the test photos, trust gate off):", "",
                  "| run | wrong labels admitted | auto refused at admission (of them right) | cleaned | examples per "
                  "SKU | held-out accuracy p1-p3 | all plates | trusted |", "|---|---|---|---|---|---|---|---|"]
        for row in run.poison:
            lines.append(f"| {row.run} | {row.wrong_labels} | {row.refused} ({row.refused_right}) | {row.cleaned} | "
                         f"{row.examples} | {_pct(row.held_out_accuracy)} | {_pct(row.held_out_all)} | "
                         f"{', '.join(row.trusted) or 'none'} |")
        lines.append("")
    return lines


def _header(r: GalleryResult) -> str:
    solo = ", ".join(f"{p} {' + '.join(skus)}" for p, skus in SOLO)
    return (f"Seeds {', '.join(map(str, r.seeds))}; a day of {r.day_per_sku} picks per SKU "
            f"({r.day_per_sku * len(ITEMS)} events, teach photos), {r.twin_share:.0%} of them from the SKU's twin "
            f"plate (p1-p4), the rest from its facing without a look-alike ({solo}); labels as the node gives them "
            f"(reviewer's answer when flagged, auto at confidence >= 0.999, else none); {r.eval_per_sku} test-photo "
            f"twin picks per SKU per point; {r.crops_per_event} crops per event, descriptor {r.descriptor} "
            f"({r.descriptor_floats} floats, {'colour + backbone' if r.backbone else 'colour only'}). Fast "
            f"in-process path (no daemon). Load average {' / '.join(f'{v:.2f}' for v in r.load)} at the start, "
            f"{' / '.join(f'{v:.2f}' for v in r.load_end)} at the end; {r.elapsed_s:.0f} s; {r.described} examples "
            f"described, {r.cached} read from the descriptor cache.")


def render(r: GalleryResult) -> str:
    lines = [_header(r), ""]
    for scope in dict.fromkeys(s.scope for run in r.runs for s in run.scopes):
        lines += _scope(r, scope)
    lines += _poison(r)
    same = ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in r.describe_ms)
    embed = "-" if r.embed_ms_per_crop is None else f"{r.embed_ms_per_crop:.1f} ms"
    lines.append(f"Cost: {embed} per crop to describe (median over this run's crops: colour + one detector invoke on "
                 f"the crop), x{r.crops_per_event} per event (the kinds on the same crops, interleaved, median per "
                 f"crop: {same}); the vote {r.vote_ms:.3f} ms; fusion CPU time per event (median / p95) "
                 f"{r.fusion_cpu_ms[0][0]:.2f} / {r.fusion_cpu_ms[0][1]:.2f} ms without the appearance factor, "
                 f"{r.fusion_cpu_ms[1][0]:.2f} / {r.fusion_cpu_ms[1][1]:.2f} ms with it (same events); gallery "
                 f"{r.gallery_mb_per_100:.1f} MB for 100 examples of each of {len(ITEMS)} SKUs (128x128 JPEG crops + "
                 "descriptors).")
    return "\n".join(lines)


def point(r: GalleryResult, seed: int, scope: str, examples: int) -> CurvePoint:
    """One seed's curve point (tests, the detail page)."""
    run: ScopeRun = next(s for x in r.runs if x.seed == seed for s in x.scopes if s.scope == scope)
    return next(p for p in run.curve if p.examples == examples)
