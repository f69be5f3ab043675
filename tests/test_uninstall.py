"""scripts/uninstall reverses scripts/install on a staged tree, keeping config and state unless --purge."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "scripts" / name), *args], capture_output=True, text=True, timeout=120)


def installed(root: Path) -> Path:
    assert script("install", "--root", str(root), "--no-venv", "--no-systemd").returncode == 0
    state = root / "var/lib/shelf-node"
    state.mkdir(parents=True)
    (state / "calibration.json").write_text("{}")
    (state / "outbox.db").write_text("")
    (root / "etc/shelf-node/secrets/mqtt-password").write_text("pw\n")
    return state


def test_uninstall_removes_the_code_and_units_and_keeps_config_and_state(tmp_path: Path) -> None:
    state = installed(tmp_path)
    result = script("uninstall", "--root", str(tmp_path), "--no-systemd")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "opt/shelf-node").exists()
    assert not (tmp_path / "etc/systemd/system/shelf-node.service").exists()
    assert not (tmp_path / "etc/udev/rules.d/99-shelf-node.rules").exists()
    assert (tmp_path / "etc/shelf-node/config.toml").is_file() and (state / "calibration.json").is_file()
    assert (tmp_path / "etc/shelf-node/secrets/mqtt-password").is_file()
    assert "kept" in result.stdout and "--purge" in result.stdout


def test_purge_removes_config_state_and_warns_about_the_outbox(tmp_path: Path) -> None:
    installed(tmp_path)
    result = script("uninstall", "--root", str(tmp_path), "--no-systemd", "--purge")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "etc/shelf-node").exists() and not (tmp_path / "var/lib/shelf-node").exists()
    assert "events the hub has not acknowledged are lost" in result.stdout


def test_install_then_uninstall_then_install_again_keeps_the_config(tmp_path: Path) -> None:
    installed(tmp_path)
    (tmp_path / "etc/shelf-node/config.toml").write_text("# this node's own config\n")
    assert script("uninstall", "--root", str(tmp_path), "--no-systemd").returncode == 0
    assert script("install", "--root", str(tmp_path), "--no-venv", "--no-systemd").returncode == 0
    assert (tmp_path / "etc/shelf-node/config.toml").read_text() == "# this node's own config\n"


def test_uninstall_refuses_unknown_options() -> None:
    result = script("uninstall", "--bogus")
    assert result.returncode == 2 and "unknown option --bogus" in result.stderr
