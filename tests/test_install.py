"""scripts/install stages every file where systemd and udev expect it, and never overwrites a config."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def stage(root: Path) -> str:
    result = subprocess.run([str(REPO / "scripts" / "install"), "--root", str(root), "--no-venv", "--no-systemd"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_install_stages_unit_rules_config_and_code(tmp_path: Path) -> None:
    stage(tmp_path)
    assert (tmp_path / "etc/systemd/system/shelf-node.service").read_text() == \
        (REPO / "systemd/shelf-node.service").read_text()
    assert (tmp_path / "etc/udev/rules.d/99-shelf-node.rules").is_file()
    assert (tmp_path / "etc/shelf-node/config.toml").read_text() == (REPO / "config/example-node.toml").read_text()
    assert (tmp_path / "opt/shelf-node/edge/node/node.py").is_file()
    assert not (tmp_path / "opt/shelf-node/.venv").exists()
    assert (tmp_path / "etc/shelf-node/secrets").stat().st_mode & 0o777 == 0o750


def test_install_keeps_an_existing_config(tmp_path: Path) -> None:
    config = tmp_path / "etc/shelf-node/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("# the installer's own config\n")
    output = stage(tmp_path)
    assert config.read_text() == "# the installer's own config\n"
    assert "keeping the existing" in output


def test_install_refuses_unknown_options(tmp_path: Path) -> None:
    result = subprocess.run([str(REPO / "scripts" / "install"), "--bogus"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown option --bogus" in result.stderr
