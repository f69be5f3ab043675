"""edge/atomic_file.py: the one crash-safe replacement behind the calibration, planogram, model and snapshot stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.atomic_file import TEMP_SUFFIX, replace_atomically


@pytest.mark.parametrize("durable", [True, False])
def test_replaces_text_and_bytes_and_leaves_no_temporary(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "sub" / "state.json"
    replace_atomically(target, "old ü", durable=durable)
    replace_atomically(target, b"\xffnew", durable=durable)
    assert target.read_bytes() == b"\xffnew"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.tflite"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        replace_atomically(target, 12345)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))


def test_temporary_names_are_unique_so_a_stale_one_is_never_reused(tmp_path: Path) -> None:
    """A fixed temp name (as model_fetch had) is clobbered by, or clobbers, a second writer or a stale leftover."""
    target = tmp_path / "detect.tflite"
    stale = tmp_path / f".{target.name}{TEMP_SUFFIX}"
    stale.write_bytes(b"someone else's half-written file")
    os.chmod(stale, 0o400)
    replace_atomically(target, b"model")
    assert target.read_bytes() == b"model" and stale.read_bytes() == b"someone else's half-written file"
