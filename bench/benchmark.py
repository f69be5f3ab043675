"""The benchmark record and its discovery.

A benchmark is a module `bench/<name>.py` defining

    BENCHMARK = Benchmark(name="<name>", title="...", run=run, render=render_markdown,
                          quick={...}, full={...})

where `run(**params)` returns a frozen dataclass (the typed result tests check) and
`render_markdown(result) -> str` turns it into the markdown section of docs/benchmarks.md. `quick` and `full`
are the keyword arguments of `run` for `scripts/bench --quick` (a few minutes for all of them together) and for
the documented run. `opt_in` benchmarks (long, or needing extra services) run only when named. `unavailable`
says why a benchmark cannot run on this machine (no model, no mosquitto), or None when it can.

Nobody edits a shared registry: `discover()` imports every module of the package and keeps those with a
`BENCHMARK`.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import bench

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class BenchmarkError(Exception):
    """A benchmark module is wrong (bad name, import failure) or a requested benchmark does not exist."""


def _frozen(params: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(params))


def always_available() -> str | None:
    return None


@dataclass(frozen=True)
class Benchmark:
    name: str  # the module's name: bench/<name>.py, `scripts/bench <name>`
    title: str  # one line: what it measures, against which baseline
    run: Callable[..., Any]  # run(**params) -> a frozen dataclass
    render: Callable[[Any], str]  # render_markdown(result) -> markdown (no top-level heading)
    quick: Mapping[str, Any] = field(default_factory=dict)  # run's keyword arguments for --quick
    full: Mapping[str, Any] = field(default_factory=dict)  # ... for the documented run
    opt_in: bool = False  # heavy or needs extra services: runs only when named, never in the all-run
    detail: str | None = None  # a hand-written detail page under docs/ (e.g. "bench/fusion.md"), linked
    unavailable: Callable[[], str | None] = always_available  # why it cannot run here, or None

    def __post_init__(self) -> None:
        if not self.name or not set(self.name) <= NAME_CHARS:
            raise BenchmarkError(f"benchmark name {self.name!r}: use lower-case letters, digits and '_'")
        object.__setattr__(self, "quick", _frozen(self.quick))
        object.__setattr__(self, "full", _frozen(self.full))

    def params(self, quick: bool) -> dict[str, Any]:
        return dict(self.quick if quick else self.full)

    def execute(self, quick: bool) -> Any:
        """Run with the quick or full parameters; the result must be a frozen dataclass."""
        result = self.run(**self.params(quick))
        check_result(self.name, result)
        return result


def check_result(name: str, result: object) -> None:
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise BenchmarkError(f"benchmark {name}: run() returned {type(result).__name__}, not a dataclass")
    params = getattr(type(result), "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise BenchmarkError(f"benchmark {name}: {type(result).__name__} must be a frozen dataclass")


def module_names() -> list[str]:
    """Every module of the bench package (benchmarks and helpers), sorted."""
    return sorted(info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_"))


def load(name: str) -> Benchmark:
    """The benchmark of bench/<name>.py; BenchmarkError when there is none."""
    if name not in module_names():
        raise BenchmarkError(f"no benchmark {name!r}: bench/{name}.py does not exist (scripts/bench --list)")
    found = _benchmark_of(name)
    if found is None:
        raise BenchmarkError(f"bench/{name}.py defines no BENCHMARK (it is a helper module; scripts/bench --list)")
    return found


def discover() -> dict[str, Benchmark]:
    """name -> Benchmark for every bench/*.py defining BENCHMARK, in name order."""
    found = {}
    for name in module_names():
        benchmark = _benchmark_of(name)
        if benchmark is not None:
            found[name] = benchmark
    return found


def _benchmark_of(name: str) -> Benchmark | None:
    try:
        module = importlib.import_module(f"bench.{name}")
    except ImportError as error:
        raise BenchmarkError(f"bench/{name}.py does not import: {error}") from error
    benchmark = getattr(module, "BENCHMARK", None)
    if benchmark is None:
        return None
    if not isinstance(benchmark, Benchmark):
        raise BenchmarkError(f"bench/{name}.py: BENCHMARK is a {type(benchmark).__name__}, not a Benchmark")
    if benchmark.name != name:
        raise BenchmarkError(f"bench/{name}.py: BENCHMARK.name is {benchmark.name!r}; it must be {name!r}")
    return benchmark


def select(names: list[str]) -> list[Benchmark]:
    """The named benchmarks (in the order given), or, with no names, every one that is not opt-in."""
    if names:
        return [load(name) for name in dict.fromkeys(names)]
    return [b for b in discover().values() if not b.opt_in]
