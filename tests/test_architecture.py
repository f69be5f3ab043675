"""The layering of docs/architecture.md, enforced from the imports of every module under edge/.

Every import counts, including the lazy ones inside functions: a lazy import still makes the importing
module depend on the imported one. The rules:

- data flows one way: a package imports only packages of a lower layer (or its own);
- nothing imports the CLI or the daemon (only `edge.__main__` and the CLI itself);
- `edge/hw` is a leaf: it imports only the base records (model, errors, config);
- pure packages import no I/O module;
- pyserial, OpenCV, LiteRT / tflite-runtime and gpiozero are imported only by backend modules, and lazily;
- the benchmarks (`bench/`, not shipped) may import edge/; nothing in edge/ imports bench/;
- no two modules of edge/ import each other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

EDGE = Path(__file__).resolve().parents[1] / "edge"
BENCH = EDGE.parent / "bench"

# Lower layer numbers may be imported by higher ones, never the reverse. Packages of one layer do not
# import each other unless the pair is listed in SAME_LAYER_ALLOWED.
LAYERS: dict[str, int] = {
    "edge": 0, "edge.errors": 0, "edge.model": 0, "edge.atomic_file": 0, "edge.config": 0,
    "edge.hw": 1,
    "edge.loadcell": 2, "edge.weighing": 2, "edge.vision": 2, "edge.planogram": 2, "edge.gpio": 2,
    "edge.fusion": 3,
    "edge.outbox": 4, "edge.gallery": 4,
    "edge.mqtt": 5, "edge.control": 5, "edge.provision": 5,
    "edge.node": 6, "edge.sim": 6, "edge.hub": 6, "edge.systemd": 6,
    "edge.demo": 7, "edge.daemon": 7,
    "edge.cli": 8, "edge.__main__": 9,
}
SAME_LAYER_ALLOWED: set[tuple[str, str]] = {
    ("edge.config", "edge.errors"),
    ("edge.weighing", "edge.loadcell"),  # the weigher uses the loadcell's tracker of channel faults
    ("edge.fusion", "edge.planogram"),
}
# Known exceptions, each with the issue that removes it.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}  # edge/hw -> edge/vision ended: the detector moved to edge/vision

PURE = ("edge.weighing", "edge.fusion", "edge.model", "edge.planogram")
IO_MODULES = {"serial", "cv2", "paho", "sqlite3", "socket", "subprocess", "gpiozero", "lgpio", "RPi",
              "ai_edge_litert", "tflite_runtime", "urllib", "http", "select", "pty", "tty", "shutil",
              "edge.atomic_file", "edge.loadcell.reader", "edge.loadcell.recording"}
# Pure-package modules allowed an I/O import, with why.
PURE_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("edge.weighing.store", "edge.atomic_file"): "calibration persistence; the weigher is handed the store",
    ("edge.planogram", "edge.atomic_file"): "the retained planogram is persisted beside the parser",
}

BACKEND_LIBRARIES = {"serial", "cv2", "ai_edge_litert", "tflite_runtime", "gpiozero", "lgpio", "RPi"}
BACKEND_MODULE_PREFIXES = ("edge.hw.", "edge.loadcell.reader")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name as written
    lazy: bool  # inside a function
    where: str  # file:line
    names: tuple[str, ...] = ()  # `from X import a, b`: a, b (a name may be a submodule of X)


def module_name(path: Path) -> str:
    parts = path.relative_to(EDGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    importer = module_name(path)
    where = str(path.relative_to(EDGE.parent))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(importer, alias.name, in_function, f"{where}:{child.lineno}")
                             for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = tuple(alias.name for alias in child.names)
                found.append(Import(importer, child.module, in_function, f"{where}:{child.lineno}", names))
            elif isinstance(child, ast.ImportFrom) and child.level > 0:
                base = importer.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (child.level - 1)]
                target = ".".join(base + ([child.module] if child.module else []))
                names = tuple(alias.name for alias in child.names)
                found.append(Import(importer, target, in_function, f"{where}:{child.lineno}", names))
            visit(child, nested)

    visit(tree, in_function=False)
    return found


ALL_IMPORTS = [imp for path in sorted(EDGE.rglob("*.py")) for imp in imports_of(path)]


def unit_of(module: str) -> str:
    """The layered unit a module belongs to: its subpackage (`edge.weighing`) or top-level module."""
    parts = module.split(".")
    if len(parts) == 1:
        return "edge"
    return ".".join(parts[:2])


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in EDGE.rglob("*.py")}
    missing = sorted(u for u in units if u not in LAYERS)
    assert not missing, f"add these to LAYERS (and docs/architecture.md): {missing}"


def test_imports_run_one_way() -> None:
    wrong = []
    for imp in ALL_IMPORTS:
        if not within(imp.imported, "edge"):
            continue
        src, dst = unit_of(imp.importer), unit_of(imp.imported)
        if src == dst or (src, dst) in KNOWN_UPWARD:
            continue
        if LAYERS[dst] < LAYERS[src] or (src, dst) in SAME_LAYER_ALLOWED:
            continue
        wrong.append(f"{imp.where}: {imp.importer} imports {imp.imported} ({src} layer {LAYERS[src]}, "
                     f"{dst} layer {LAYERS[dst]})")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_known_exceptions_still_exist() -> None:
    """An exception that the code no longer needs must leave the list, so the rule tightens."""
    pairs = {(unit_of(i.importer), unit_of(i.imported)) for i in ALL_IMPORTS if within(i.imported, "edge")}
    stale = [pair for pair in [*KNOWN_UPWARD, *SAME_LAYER_ALLOWED] if pair not in pairs]
    assert not stale, f"remove from KNOWN_UPWARD / SAME_LAYER_ALLOWED: {stale}"
    module_pairs = {(i.importer, i.imported) for i in ALL_IMPORTS}
    stale_pure = [pair for pair in PURE_EXCEPTIONS if pair not in module_pairs]
    assert not stale_pure, f"remove from PURE_EXCEPTIONS: {stale_pure}"


def test_nothing_in_edge_imports_the_benchmarks() -> None:
    offenders = [f"{i.where}: {i.importer} imports {i.imported}" for i in ALL_IMPORTS if within(i.imported, "bench")]
    assert not offenders, "edge/ must not depend on bench/ (measurement code stays out of the product):\n" + "\n".join(
        offenders)


def test_the_benchmarks_import_only_edge_and_themselves() -> None:
    """bench/ sits on top of edge/: it imports edge and bench modules, never the tests."""
    offenders = [f"{i.where}: {i.imported}" for path in sorted(BENCH.rglob("*.py")) for i in imports_of(path)
                 if within(i.imported, "tests")]
    assert not offenders, f"bench/ imports the tests: {offenders}"


@pytest.mark.parametrize("target", ["edge.cli", "edge.daemon"])
def test_nothing_imports_the_cli_or_the_daemon(target: str) -> None:
    allowed = ("edge.cli", "edge.__main__")
    offenders = [f"{i.where}: {i.importer}" for i in ALL_IMPORTS
                 if within(i.imported, target) and not any(within(i.importer, a) for a in allowed)
                 and not within(i.importer, target)]
    assert not offenders, f"{target} is imported by: {offenders}"


def test_hw_is_a_leaf() -> None:
    offenders = [f"{i.where}: {i.imported}" for i in ALL_IMPORTS
                 if within(i.importer, "edge.hw") and within(i.imported, "edge")
                 and LAYERS[unit_of(i.imported)] > 0 and unit_of(i.imported) != "edge.hw"
                 and ("edge.hw", unit_of(i.imported)) not in KNOWN_UPWARD]
    assert not offenders, f"edge/hw must import only model, errors and config: {offenders}"


def test_pure_packages_do_no_io() -> None:
    offenders = []
    for imp in ALL_IMPORTS:
        if not any(within(imp.importer, p) for p in PURE):
            continue
        if any(within(imp.imported, io) for io in IO_MODULES) and (imp.importer, imp.imported) not in PURE_EXCEPTIONS:
            offenders.append(f"{imp.where}: {imp.importer} imports {imp.imported}")
    assert not offenders, "pure packages import I/O modules:\n" + "\n".join(offenders)


def test_backend_libraries_are_imported_lazily_by_backends_only() -> None:
    offenders = []
    for imp in ALL_IMPORTS:
        if imp.imported.split(".")[0] not in BACKEND_LIBRARIES:
            continue
        backend = any(imp.importer.startswith(p) or imp.importer == p.rstrip(".") for p in BACKEND_MODULE_PREFIXES)
        if not backend or not imp.lazy:
            offenders.append(f"{imp.where}: {imp.importer} imports {imp.imported}"
                             f"{'' if imp.lazy else ' at module level'}")
    assert not offenders, "hardware libraries outside lazy backend imports:\n" + "\n".join(offenders)


EDGE_MODULES = {module_name(p) for p in EDGE.rglob("*.py")}


def modules_named(imp: Import) -> set[str]:
    """The edge/ modules an import makes its importer depend on: `from edge.sim import camera` names the module
    edge.sim.camera, `from edge.sim.scenario import Scenario` the module edge.sim.scenario. (The parent packages
    every import runs are left out: they would put each package's __init__ in a circle with its modules.)"""
    submodules = {f"{imp.imported}.{name}" for name in imp.names} & EDGE_MODULES
    named = set(submodules)
    if imp.imported in EDGE_MODULES and (not imp.names or len(submodules) < len(imp.names)):
        named.add(imp.imported)
    return named


def import_graph(imports: list[Import]) -> dict[str, dict[str, str]]:
    """importer -> {imported module: where (file:line of the first such import)}, edge/ modules only."""
    graph: dict[str, dict[str, str]] = {}
    for imp in imports:
        for target in sorted(modules_named(imp) - {imp.importer}):
            graph.setdefault(imp.importer, {}).setdefault(target, imp.where)
    return graph


def import_cycles(graph: dict[str, dict[str, str]]) -> list[list[tuple[str, str]]]:
    """One shortest circle per group of modules that reach each other by imports, as (module, where it imports
    the next) steps from the group's first module round to it again."""
    reach: dict[str, set[str]] = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for target in graph.get(todo.pop(), {}):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        reach[start] = seen
    cycles, done = [], set()
    for start in sorted(graph):
        if start in done or start not in reach[start]:
            continue
        done |= {m for m in reach[start] if start in reach.get(m, set())}
        came_from: dict[str, str] = {}  # breadth first from start: the shortest way back to it
        frontier = [start]
        while start not in came_from:
            following = []
            for module in frontier:
                for target in graph.get(module, {}):
                    if target not in came_from:
                        came_from[target] = module
                        following.append(target)
            frontier = following
        backwards, at = [], came_from[start]
        while at != start:
            backwards.append(at)
            at = came_from[at]
        circle = [start, *reversed(backwards)]
        cycles.append([(m, graph[m][circle[(i + 1) % len(circle)]]) for i, m in enumerate(circle)])
    return cycles


def test_no_import_cycles() -> None:
    """Two modules that import each other (at module level, in a function or for types only) are one module in
    two files: neither can be read, tested or moved alone. Break the circle one way: move what both need to a
    module both import, or the function to the module that uses it."""
    circles = [" -> ".join(f"{m} ({where})" for m, where in cycle) + f" -> {cycle[0][0]}"
               for cycle in import_cycles(import_graph(ALL_IMPORTS))]
    assert not circles, "modules of edge/ import each other:\n" + "\n".join(circles)


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b": "a.py:1"}, "b": {"c": "b.py:2"}, "c": {"a": "c.py:3", "d": "c.py:4"}, "d": {},
             "e": {"a": "e.py:5"}}
    assert import_cycles(graph) == [[("a", "a.py:1"), ("b", "b.py:2"), ("c", "c.py:3")]]
    assert import_cycles({"a": {"b": "a.py:1"}, "b": {}}) == []
    assert modules_named(Import("edge.cli.x", "edge.sim", True, "x.py:9", ("camera",))) == {"edge.sim.camera"}
    both = Import("edge.cli.x", "edge.sim", True, "x.py:9", ("camera", "not_a_module"))
    assert modules_named(both) == {"edge.sim.camera", "edge.sim"}
    by_name = Import("edge.cli.x", "edge.sim.camera", False, "x.py:9", ("LiveFrames",))
    assert modules_named(by_name) == {"edge.sim.camera"}


def test_the_checker_sees_lazy_imports() -> None:
    """The rules above are only as good as the import finder; pin what it finds."""
    sample = EDGE / "loadcell" / "reader.py"
    found = imports_of(sample)
    assert any(i.imported == "serial" and i.lazy for i in found)
    assert not any(i.imported == "serial" and not i.lazy for i in found)


TESTS = Path(__file__).resolve().parent
SUPPORT_FOLDERS = {"plugins"}  # shared fixtures, not the tests of a package
# Top-level tests of what is not a module of edge/: the whole tree's layering, and scripts/install|uninstall.
TOP_LEVEL_OF_NO_MODULE = {"test_architecture.py", "test_install.py", "test_uninstall.py"}


def test_tests_mirror_edge() -> None:
    """tests/X/ holds the tests of edge/X/ (a package); a top-level tests/test_X.py those of a top-level module;
    tests/bench/ those of the bench/ package."""
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - SUPPORT_FOLDERS
    unmatched = sorted(f"tests/{name}/" for name in folders if not (EDGE / name).is_dir() and name != "bench")
    modules = {p.stem for p in EDGE.glob("*.py")}
    stray = sorted(p.name for p in TESTS.glob("test_*.py")
                   if p.name not in TOP_LEVEL_OF_NO_MODULE and not any(p.stem.startswith(f"test_{m}") for m in modules))
    assert not unmatched, f"test folders with no edge/ package of that name: {unmatched}"
    assert not stray, f"top-level tests of no top-level edge module (move them to tests/<package>/): {stray}"


def test_bench_tests_mirror_bench() -> None:
    """tests/bench/test_X.py tests bench/X.py (or bench/X_*.py): no test there of something bench/ lacks."""
    modules = {p.stem for p in BENCH.glob("*.py")}
    stray = sorted(p.name for p in (TESTS / "bench").glob("test_*.py")
                   if not any(p.stem == f"test_{m}" or p.stem.startswith(f"test_{m}_") for m in modules))
    assert not stray, f"tests/bench/ files with no bench/ module of that name: {stray}"
