"""`scripts/bench [NAME ...] [--quick] [--list]`: run benchmarks and rewrite their sections of docs/benchmarks.md.

With no NAME, every benchmark that is not opt-in runs (opt-in ones, long or needing extra services, run only
when named). `--quick` uses each benchmark's quick parameters (a few minutes for all). Each benchmark runs in a
fresh Python process (peak RSS and CPU figures are its own, not left over from the one before); the machine is
captured once per run. A benchmark that cannot run here (no model, no mosquitto) is skipped with the reason and
keeps its previous section.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import doc, machine
from bench.benchmark import Benchmark, BenchmarkError, check_result, discover, load, select

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"


def parse_settings(pairs: list[str], benchmarks: list[Benchmark]) -> dict[str, Any]:
    """--set KEY=VALUE (VALUE as JSON when it parses, else a string), checked against each run()'s parameters."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise BenchmarkError(f"--set {pair!r}: write KEY=VALUE, e.g. --set interactions=200")
        try:
            settings[key] = json.loads(raw)
        except json.JSONDecodeError:
            settings[key] = raw
    for benchmark in benchmarks:
        accepted = inspect.signature(benchmark.run).parameters
        unknown = sorted(set(settings) - set(accepted))
        if unknown:
            raise BenchmarkError(f"--set {', '.join(unknown)}: {benchmark.name}'s run() takes only "
                                 f"{', '.join(accepted) or 'no parameters'}")
    return settings


def run_here(name: str, quick: bool, settings: dict[str, Any], out: Path, json_dir: Path | None) -> None:
    """In the child process: run one benchmark, write its rendered markdown and timings to `out` (JSON)."""
    benchmark = load(name)
    params = {**benchmark.params(quick), **settings}
    load_before, started = machine.load_average(), time.time()
    result = benchmark.run(**params)
    check_result(name, result)
    wall = time.time() - started
    if json_dir is not None:
        json_dir.mkdir(parents=True, exist_ok=True)
        (json_dir / f"{name}.json").write_text(json.dumps(asdict(result), indent=1, default=str) + "\n")
    out.write_text(json.dumps({"markdown": benchmark.render(result), "started": started, "wall_s": wall,
                               "load_before": load_before, "load_after": machine.load_average()}))


def run_child(benchmark: Benchmark, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{benchmark.name}.json"
    command = [sys.executable, "-m", "bench.runner", "--child", benchmark.name,
               *(["--quick"] if args.quick else []), *[f"--set={pair}" for pair in args.set],
               *(["--json", str(args.json)] if args.json else []), "--child-out", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=REPO, env=env, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"benchmark {benchmark.name} failed (exit {done.returncode}; its traceback is above)")
    reply: dict[str, Any] = json.loads(out.read_text())
    return reply


def command_line(argv: list[str]) -> str:
    return " ".join(["scripts/bench", *argv])


def list_benchmarks() -> int:
    for name, benchmark in discover().items():
        why = benchmark.unavailable()
        flags = " (opt-in)" if benchmark.opt_in else ""
        print(f"{name:16s}{flags:10s} {benchmark.title}" + (f"  [cannot run here: {why}]" if why else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all but opt-in)")
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick parameters")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a run() parameter of the named benchmarks (VALUE in JSON)")
    parser.add_argument("--no-write", action="store_true", help="print the sections instead of rewriting the doc")
    parser.add_argument("--doc", type=Path, default=DOC, help="the file to rewrite (default docs/benchmarks.md)")
    parser.add_argument("--json", type=Path, help="also write each result as DIR/NAME.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.child:
            run_here(args.child, args.quick, parse_settings(args.set, [load(args.child)]), args.child_out, args.json)
            return 0
        if args.list:
            return list_benchmarks()
        return run_all(args, command_line(argv))
    except (BenchmarkError, doc.DocError) as error:
        print(f"scripts/bench: {error}", file=sys.stderr)
        return 1


def run_all(args: argparse.Namespace, command: str) -> int:
    benchmarks = select(args.names)
    if args.set and not args.names:
        raise BenchmarkError("--set needs the benchmarks named (their run() parameters differ)")
    parse_settings(args.set, benchmarks)
    here = machine.capture()
    started = time.time()
    skipped = []
    if not args.no_write:
        _write(args.doc, "machine", doc.machine_section(here, command, started))
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for benchmark in benchmarks:
            why = benchmark.unavailable()
            if why:
                print(f"scripts/bench: skipping {benchmark.name}: {why}", file=sys.stderr)
                skipped.append(benchmark.name)
                continue
            print(f"scripts/bench: running {benchmark.name} ...", file=sys.stderr)
            reply = run_child(benchmark, args, Path(tmp))
            info = doc.RunInfo(command=command, quick=args.quick, started=reply["started"], wall_s=reply["wall_s"],
                               load_before=_load(reply["load_before"]), load_after=_load(reply["load_after"]))
            body = doc.section(benchmark, reply["markdown"], info, here)
            if args.no_write:
                print(body)
            else:
                _write(args.doc, benchmark.name, body)  # after each one: a long run keeps what it measured
            print(f"scripts/bench: {benchmark.name} done in {reply['wall_s']:.0f} s", file=sys.stderr)
    if not args.no_write:
        print(f"scripts/bench: {args.doc} rewritten ({len(benchmarks) - len(skipped)} sections)", file=sys.stderr)
    return 1 if skipped and args.names else 0


def _load(values: list[float]) -> tuple[float, float, float]:
    one, five, fifteen = values
    return (one, five, fifteen)


def _write(path: Path, name: str, body: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(doc.replace_section(text, name, body), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
