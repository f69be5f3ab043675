"""The shipped example configs load, the generated reference is current, `config check` exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import load_config
from edge.config.reference import render

REPO = Path(__file__).resolve().parents[2]


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "config", "check", *args], capture_output=True, text=True)


@pytest.mark.parametrize("name", ["example-node.toml", "sim-node.toml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(REPO / "config" / name)
    assert len(config.plates) == 4


def test_docs_config_reference_is_current() -> None:
    documented = (REPO / "docs" / "config.md").read_text()
    assert documented == render(), "docs/config.md is stale: run python -m edge.config.reference > docs/config.md"


def test_config_check_cli_exit_codes(tmp_path: Path) -> None:
    sim = (REPO / "config" / "sim-node.toml").read_text().replace('"var/demo/state"', f'"{tmp_path / "state"}"')
    good = tmp_path / "good.toml"
    good.write_text(sim)
    bad = tmp_path / "bad.toml"
    bad.write_text(sim.replace("channels = 8", "channels = 8\nbogus = 1"))
    result = check(str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{good}: OK (4 plates, ")
    result = check(str(bad))
    assert result.returncode == 2
    assert f"{bad}: serial.bogus: unknown key" in result.stderr


def test_schema_only_says_so_and_skips_the_files() -> None:
    result = check("--schema-only", str(REPO / "config" / "example-node.toml"))
    assert result.returncode == 0, result.stderr
    assert "schema only: referenced files not checked (--schema-only)" in result.stdout
