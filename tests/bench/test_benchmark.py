"""The Benchmark record, discovery, and bench/ staying out of the wheel."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from bench import benchmark as registry
from bench.benchmark import Benchmark, BenchmarkError

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Frozen:
    value: int


@dataclasses.dataclass
class Mutable:
    value: int


def make(run: object = lambda size=1: Frozen(size), **fields: object) -> Benchmark:
    return Benchmark(**{"name": "toy", "title": "a toy", "run": run, "render": lambda r: f"{r.value}",
                        "quick": {"size": 2}, "full": {"size": 3}, **fields})  # type: ignore[arg-type]


def test_execute_uses_quick_or_full_parameters_and_checks_the_result() -> None:
    toy = make()
    assert toy.execute(quick=True) == Frozen(2) and toy.execute(quick=False) == Frozen(3)
    with pytest.raises(TypeError):
        toy.quick["size"] = 5  # type: ignore[index]  # the parameters are read-only
    with pytest.raises(BenchmarkError, match="frozen dataclass"):
        make(run=lambda size: Mutable(size)).execute(quick=True)
    with pytest.raises(BenchmarkError, match="not a dataclass"):
        make(run=lambda size: {"size": size}).execute(quick=True)


def test_a_bad_name_is_refused_with_the_rule() -> None:
    with pytest.raises(BenchmarkError, match="lower-case"):
        make(name="Bench-1")


def test_discovery_finds_every_module_with_a_benchmark() -> None:
    found = registry.discover()
    for name in ("parser", "sim", "weighing", "outbox", "vision", "fusion", "rendered_camera", "limits"):
        assert found[name].name == name and not found[name].opt_in
    assert "item_scoring" not in found and "benchmark" not in found  # helpers have no BENCHMARK
    defaults = registry.select([])
    assert all(not b.opt_in for b in defaults) and {b.name for b in defaults} >= {"parser", "fusion"}
    assert [b.name for b in registry.select(["sim", "parser", "sim"])] == ["sim", "parser"]


def test_opt_in_benchmarks_run_only_when_named() -> None:
    opt_in = [b for b in registry.discover().values() if b.opt_in]
    chosen = {b.name for b in registry.select([])}
    assert all(b.name not in chosen for b in opt_in)
    for b in opt_in:
        assert registry.select([b.name])[0] is b


def test_unknown_or_helper_names_say_what_exists() -> None:
    with pytest.raises(BenchmarkError, match="does not exist"):
        registry.load("nosuch")
    with pytest.raises(BenchmarkError, match="defines no BENCHMARK"):
        registry.load("item_scoring")


def test_every_quick_parameter_is_a_run_parameter() -> None:
    import inspect

    for b in registry.discover().values():
        accepted = inspect.signature(b.run).parameters
        assert set(b.quick) <= set(accepted) and set(b.full) <= set(accepted), b.name


def test_bench_is_not_in_the_wheel() -> None:
    """pyproject's package selection (setuptools find) includes edge and leaves bench/ and tests/ out."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(str(REPO), include=include)
    assert "edge" in packages and "edge.node" in packages
    assert not [p for p in packages if p.split(".")[0] in ("bench", "tests")]
