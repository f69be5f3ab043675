"""docs/benchmarks.md's frame: a run replaces only its sections; prose and other sections stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import doc
from bench.machine import Machine, capture
from tests.bench.test_benchmark import make

REPO = Path(__file__).resolve().parents[2]
TEXT = """# Benchmarks

Prose by hand.

<!-- bench:a -->
old a
<!-- /bench:a -->

middle prose

<!-- bench:b -->
old b
<!-- /bench:b -->

<!-- /bench:sections -->

closing prose
"""


def test_a_section_is_replaced_in_place() -> None:
    text = doc.replace_section(TEXT, "a", "new a\nline 2")
    assert "new a\nline 2\n<!-- /bench:a -->" in text and "old a" not in text
    assert text.replace("new a\nline 2", "old a") == TEXT  # nothing else moved


def test_a_new_section_goes_before_the_end_marker_or_at_the_end() -> None:
    text = doc.replace_section(TEXT, "c", "c body")
    assert text.index("<!-- /bench:b -->") < text.index("c body") < text.index("<!-- /bench:sections -->")
    bare = doc.replace_section("# B\n", "c", "c body")
    assert bare == "# B\n\n<!-- bench:c -->\nc body\n<!-- /bench:c -->\n"


def test_a_damaged_marker_is_an_error_naming_the_fix() -> None:
    with pytest.raises(doc.DocError, match="has no <!-- /bench:a -->"):
        doc.replace_section("<!-- bench:a -->\nno end\n", "a", "x")


def test_the_section_names_command_mode_load_and_detail() -> None:
    here = Machine("x86_64", "Some CPU", 2, 8.0, "Debian", "3.11.7", (("numpy", "2"),), (0.5, 0.4, 0.3))
    info = doc.RunInfo("scripts/bench toy --quick", True, 0.0, 12.3, (0.5, 0.4, 0.3), (1.5, 0.6, 0.3))
    body = doc.section(make(detail="bench/toy.md"), "| figures |", info, here)
    assert body.startswith("## a toy\n") and "`scripts/bench toy --quick` (quick parameters" in body
    assert "Some CPU, 2 cores, load average (1 min) 0.5 -> 1.5" in body and "(bench/toy.md)" in body
    assert body.rstrip().endswith("| figures |")


def test_the_machine_is_described() -> None:
    here = capture()
    assert here.cores >= 1 and here.python.count(".") == 2 and len(here.load_average) == 3
    assert dict(here.versions)["SQLite"] and "Python" in here.describe()


def test_the_docs_frame_has_every_default_benchmark() -> None:
    from bench.benchmark import discover

    text = (REPO / "docs" / "benchmarks.md").read_text()
    assert doc.SECTIONS_END in text and "<!-- bench:machine -->" in text
    for name in ("parser", "sim", "weighing", "outbox", "vision", "fusion", "rendered_camera", "limits"):
        begin, end = doc.markers(name)
        assert name in discover() and text.index(begin) < text.index(end)
