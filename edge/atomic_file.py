"""Crash-safe file replacement: readers see the old content or the new, never a mix.

Write a temporary file with a unique name in the same directory, rename it over the target. With
`durable=True` (the default) the file is fsynced before the rename and the directory after it,
so after a power cut the file holds the old content or the new one, and the new one stays.

Who needs what:
- durable: the calibration store and the planogram store (state a restarted node relies on),
  and the detection model install (a model must not vanish or be empty after a reboot).
- not durable: the snapshot store (evidence JPEGs, many per hour on an SD card; an fsync each
  would cost more than losing the last few pictures to a power cut, which is all it can cost:
  the rename still makes a partial picture invisible under its final name), and the simulator's
  camera frames (edge/sim/camera/output.py: a frame reader must never see half a JPEG; a power cut
  only costs frames of a simulation).

`fsync_directory` is the directory half alone, for a store that renames files itself (the
calibration store's undo swaps two files by rename).

Raises OSError; callers turn it into their own error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"  # a store may delete leftovers with this suffix (a save cut short) at start


def replace_atomically(path: Path, data: str | bytes, durable: bool = True) -> None:
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    """Make the renames in `directory` survive a power cut."""
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)
