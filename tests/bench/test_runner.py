"""scripts/bench's runner: lists, refuses bad input clearly, runs a benchmark in a child and rewrites its section."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import runner

FRAME = "# Benchmarks\n\nBy hand.\n\n<!-- bench:machine -->\n<!-- /bench:machine -->\n\n<!-- /bench:sections -->\n"


def test_list_names_every_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "parser" in out and "limits" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["nosuch"], "no benchmark 'nosuch'"),
    (["sim", "--set", "frames=3"], "--set frames: sim's run() takes only interactions, sps, plates, seed"),
    (["sim", "--set", "novalue"], "write KEY=VALUE"),
    (["--set", "interactions=3"], "--set needs the benchmarks named"),
])  # fmt: skip
def test_bad_input_is_refused_with_what_to_do(argv: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main([*argv, "--doc", str(tmp_path / "b.md")]) == 1
    assert message in capsys.readouterr().err and not (tmp_path / "b.md").exists()


def test_a_run_rewrites_only_its_section(tmp_path: Path) -> None:
    target = tmp_path / "benchmarks.md"
    target.write_text(FRAME)
    assert runner.main(["sim", "--set", "interactions=10", "--doc", str(target), "--json", str(tmp_path)]) == 0
    text = target.read_text()
    assert text.startswith("# Benchmarks\n\nBy hand.\n") and "Latest run: `scripts/bench sim --set" in text
    assert text.index("<!-- bench:sim -->") < text.index("<!-- /bench:sections -->")
    assert "## simulator:" in text and "| simulated |" in text
    assert '"interactions": 10' in (tmp_path / "sim.json").read_text()
