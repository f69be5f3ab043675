"""The soak's result as markdown (docs/bench/soak.md): the figures a reader needs, each with its verdict."""

from __future__ import annotations

import math
from typing import Any

from bench.soak_faults import KINDS

QUIET = {kind.name for kind in KINDS if kind.quiet}


def _fmt(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.3g}"


def render_markdown(result: Any) -> str:
    a = result.accounting
    lines = [
        f"Run: `scripts/soak --minutes {result.minutes:g} --seed {result.seed}"
        f"{' --detector' if result.detector else ''}`, started {result.started_utc}; machine load "
        f"(1/5/15 min) {result.load_before} before, {result.load_after} after (2 cores, shared).",
        f"Verdict: **{'PASS' if result.ok else 'FAIL'}**.",
        "",
        "### Interactions at the hub",
        "",
        "| true interactions | published (1:1) | merged into one event | unaccounted | item events | for review "
        "| right, unflagged | wrong, unflagged | weight events without item | items not naming their weight event "
        "| extra weight events | flagged serial_outage |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {a.interactions} | {a.published} | {a.merged} | {len(a.unaccounted)} | {a.item_events} | "
        f"{a.items_reviewed} | {a.items_right} | {a.items_wrong_unflagged} | {a.items_missing} | "
        f"{a.items_unlinked} | {a.extra_weight_events} | {a.flagged_serial_outage} |",
        "",
    ]
    if a.unaccounted:
        lines += [f"Unaccounted truth ids: {', '.join(map(str, a.unaccounted[:30]))}", ""]
    hub = result.hub
    lines += [f"Hub: {hub.get('events', 0)} unique events, {hub.get('duplicates', 0)} duplicates (dropped by "
              f"event_id), {hub.get('missing_count', '?')} missing seqs, {hub.get('invalid', '?')} invalid "
              f"payloads, session {hub.get('session', '?')}, last state `{hub.get('state')}`.", ""]
    lines += ["### Faults and the health counters that told them", "",
              "| fault | what | injected | counter | its rise over the run | shown by `status` | "
              "latency (s): median / max | other faults' counters meanwhile |",
              "|---|---|---|---|---|---|---|---|"]
    for f in result.faults:
        latency = sorted(f.latency_s)
        shown = "-" if not latency else f"{latency[len(latency) // 2]:.1f} / {latency[-1]:.1f}"
        injected = f"skipped: {f.skipped}" if f.skipped and not f.injected else str(f.injected)
        if f.counter and f.per_injection > 1:
            injected += f" (x{f.per_injection}: there and back)"
        quiet = "; ".join(f.quiet_violations) if f.quiet_violations else ("unchanged" if f.kind in QUIET else "-")
        lines.append(f"| {f.kind} | {f.what} | {injected} | {f'`{f.counter}`' if f.counter else '-'} | "
                     f"{'-' if f.counter_delta is None else f'{f.counter_delta:g}'} | "
                     f"{f.detected if f.counter else '-'}{f' (+{f.absorbed} did not bite)' if f.absorbed else ''} | "
                     f"{shown} | {quiet} |")
    lines += ["", "### Resources of the daemon (second half, least-squares fit)", "",
              "| figure | samples | mean | slope per hour | 95 % interval per hour | flat |",
              "|---|---|---|---|---|---|"]
    for t in result.trends:
        low, high = t.ci95_per_h
        lines.append(f"| {t.name} ({t.unit}) | {t.samples} | {t.mean:.1f} | {_fmt(t.slope_per_h)} | "
                     f"{_fmt(low)} .. {_fmt(high)} | {'yes' if t.flat else 'NO'} |")
    first, last = result.rss_mb_first_last
    lines += ["", f"RSS {first:.0f} MB at the first sample, {last:.0f} MB at the last; CPU {result.cpu_percent:.1f} % "
              f"of one core over the run. SIGTERM to exit: {result.stop_s:.1f} s (exit code {result.daemon_exit}). "
              f"Processes left behind: {len(result.leftovers) or 'none'}.",
              f"Daemon log: {result.log_lines.get('lines', 0)} lines, {result.log_lines.get('warning', 0)} warnings, "
              f"{result.log_lines.get('error', 0)} errors, {result.log_lines.get('traceback', 0)} tracebacks.", ""]
    for leftover in result.leftovers:
        lines.append(f"- left behind: `{leftover}`")
    return "\n".join(lines) + "\n"
