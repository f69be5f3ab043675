"""docs/benchmarks.md's frame: generated sections between markers, hand-written prose around them.

Each benchmark owns one section, `<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`; `scripts/bench` replaces
the sections of the benchmarks it ran and leaves every other line alone, so a run of one benchmark keeps the
others' latest figures, and the prose outside the markers is edited by hand. A benchmark without a section
yet gets one before `<!-- /bench:sections -->` (or at the end). The `machine` section describes the machine
of the latest run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.benchmark import Benchmark
from bench.machine import Machine

SECTIONS_END = "<!-- /bench:sections -->"


class DocError(Exception):
    """The markers of docs/benchmarks.md are damaged (an opening marker without its closing one)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    command: str  # as typed, e.g. "scripts/bench fusion --quick"
    quick: bool
    started: float  # wall clock (time.time())
    wall_s: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with the section `name` holding `body` (added before SECTIONS_END, or at the end, when new)."""
    begin, end = markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text:
        start = text.index(begin)
        stop = text.find(end, start)
        if stop < 0:
            raise DocError(f"docs/benchmarks.md: {begin} has no {end}; restore it (git diff) and run again")
        return text[:start] + block + text[stop + len(end):]
    if SECTIONS_END in text:
        at = text.index(SECTIONS_END)
        return text[:at] + block + "\n\n" + text[at:]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def section(benchmark: Benchmark, rendered: str, info: RunInfo, machine: Machine) -> str:
    """A benchmark's section: heading, how and where it ran, its rendered figures, its detail page."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.started))
    mode = "quick parameters, rough figures" if info.quick else "full parameters"
    load = f"{info.load_before[0]:.1f} -> {info.load_after[0]:.1f}"
    lines = [f"## {benchmark.title}", "",
             f"`{info.command}` ({mode}), {when}, {info.wall_s:.0f} s; {machine.cpu}, {machine.cores} cores, "
             f"load average (1 min) {load}."]  # fmt: skip
    if benchmark.detail:
        lines.append(f"Method, history and analysis: [{benchmark.detail.split('#')[0]}]({benchmark.detail}).")
    return "\n".join([*lines, "", rendered.rstrip()]) + "\n"


def machine_section(machine: Machine, command: str, started: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    return (f"Latest run: `{command}`, {when}.\n\nMachine: {machine.describe()}. Each section below says when it "
            "was run and how loaded the machine was.\n")
