"""Calibration persisted as JSON in the state directory, written atomically.

Missing file (first boot) = defaults, said in a log line and in status. A corrupt file (random
bytes, not JSON, wrong shape) is a CalibrationError saying "corrupt" and what to do; it is never
silently replaced by defaults.

Every save keeps the file it replaces as `calibration.json.prev` (a hard link: the exact bytes,
atomically), so `undo()` (`shelf-node calibration undo`) brings the previous calibration back; undo
again redoes. A corrupt file being replaced is kept as `calibration.json.corrupt` instead, so it
never overwrites a good `.prev`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.atomic_file import fsync_directory, replace_atomically
from edge.errors import CalibrationError, StateError
from edge.loadcell.protocol import sends_grams
from edge.weighing.calibration import Board, Calibration, ChannelCalibration

if TYPE_CHECKING:
    from edge.config import NodeConfig

log = logging.getLogger(__name__)

FILE_NAME = "calibration.json"
FORMAT_VERSION = 1


def default_counts_per_gram(config: NodeConfig) -> float:
    """Every channel's scale until calibrated: [weighing] counts_per_gram, or 1 for a source sending grams."""
    return 1.0 if sends_grams(config.serial) else config.weighing.counts_per_gram


class CalibrationStore:
    """Load and save one calibration file. `read_only` stores (replay) refuse to save."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only

    @classmethod
    def in_state_dir(cls, state_dir: str | Path) -> CalibrationStore:
        return cls(Path(state_dir) / FILE_NAME)

    @property
    def prev_path(self) -> Path:
        return self.path.with_name(self.path.name + ".prev")

    @property
    def corrupt_path(self) -> Path:
        return self.path.with_name(self.path.name + ".corrupt")

    def load(self, channels: int, default_counts_per_gram: float) -> Calibration:
        """The stored calibration, or defaults (logged) when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.info(
                "no calibration at %s yet: every channel uses offset 0 and %g counts/g until tared and calibrated",
                self.path,
                default_counts_per_gram,
            )
            return Calibration.defaults(channels, default_counts_per_gram)
        except UnicodeDecodeError:
            raise self._corrupt("not text: random bytes, or a damaged disk") from None
        except OSError as exc:
            raise CalibrationError(
                f"{self.path}: cannot read calibration: {exc.strerror or exc}; it must be a file the service "
                f"user can read (check its permissions)"
            ) from None
        return self._parse(text, channels, default_counts_per_gram)

    def save(self, calibration: Calibration) -> None:
        """Keep the current file as .prev, then write temp file, fsync, rename over it, fsync the directory."""
        if self.read_only:
            raise CalibrationError(f"{self.path}: opened read-only (replay); calibration changes are not saved")
        document: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "saved_at": time.time(),
            "channels": [{"offset": c.offset, "counts_per_gram": c.counts_per_gram} for c in calibration.channels],
            "plates": calibration.plate_fits,
        }
        if calibration.board is not None:
            document["board"] = calibration.board.to_json()
        try:
            self._keep_previous()
            replace_atomically(self.path, json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise StateError(
                f"{self.path}: cannot save calibration: {exc.strerror or exc}; check the state directory"
            ) from None

    def undo(self, channels: int, default_counts_per_gram: float) -> Calibration:
        """Bring back the calibration the last save replaced; the replaced one becomes .prev (undo again redoes)."""
        if self.read_only:
            raise CalibrationError(f"{self.path}: opened read-only (replay); calibration changes are not saved")
        if not self.prev_path.exists():
            raise CalibrationError(f"{self.prev_path}: no previous calibration to go back to (it is kept from the "
                                   f"first save on); tare and calibrate again instead")
        previous = CalibrationStore(self.prev_path).load(channels, default_counts_per_gram)  # refuse a corrupt one
        swap = self.path.with_name(f".{self.path.name}.undo.tmp")
        try:
            swap.unlink(missing_ok=True)
            if self.path.exists():
                os.link(self.path, swap)
            os.replace(self.prev_path, self.path)
            if swap.exists():
                os.replace(swap, self.prev_path)
            fsync_directory(self.path.parent)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot restore the previous calibration: {exc.strerror or exc}; "
                             f"check the state directory") from None
        return Calibration(previous.channels, previous.plate_fits, str(self.path), previous.board)

    def _keep_previous(self) -> None:
        """Link the current file as .prev (or .corrupt, when it does not parse): exact bytes, atomically."""
        if not self.path.exists():
            return
        target = self.prev_path if self._parses() else self.corrupt_path
        link = target.with_name(f".{target.name}.tmp")
        link.unlink(missing_ok=True)
        os.link(self.path, link)
        os.replace(link, target)

    def _parses(self) -> bool:
        try:
            document = json.loads(self.path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return False
        return isinstance(document, dict) and document.get("format") == FORMAT_VERSION

    def _corrupt(self, reason: str) -> CalibrationError:
        restore = (f"`shelf-node calibration undo` restores the previous one ({self.prev_path.name}), or "
                   if self.prev_path.exists() else "")
        return CalibrationError(
            f"{self.path}: calibration file is corrupt ({reason}); {restore}move it aside "
            f"(mv {self.path} {self.path}.bad) and re-run tare and calibration"
        )

    def _parse(self, text: str, channels: int, default_counts_per_gram: float) -> Calibration:
        corrupt = self._corrupt

        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise corrupt(f"not JSON: {exc.msg} at line {exc.lineno}") from None
        except RecursionError:
            raise corrupt("not a calibration: arrays or objects nested too deeply") from None
        except ValueError:  # int() refuses an integer this long
            raise corrupt(f"not a calibration: a number with more than {sys.get_int_max_str_digits()} digits") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
            raise corrupt(f"expected an object with format {FORMAT_VERSION}")
        stored = document.get("channels")
        if not isinstance(stored, list) or not stored:
            raise corrupt("'channels' must be a non-empty list")
        result: list[ChannelCalibration] = []
        for index, entry in enumerate(stored):
            if not isinstance(entry, dict):
                raise corrupt(f"channels[{index}] is not an object")
            offset = _finite(entry.get("offset"))
            scale = _finite(entry.get("counts_per_gram"))
            if offset is None or scale is None or scale == 0:
                raise corrupt(f"channels[{index}] needs a finite offset and a non-zero counts_per_gram")
            result.append(ChannelCalibration(offset, scale))
        if len(result) > channels:
            raise CalibrationError(
                f"{self.path}: holds {len(result)} channels but serial.channels is {channels}; "
                f"fix serial.channels or recalibrate"
            )
        if len(result) < channels:
            log.warning("%s covers %d of %d channels; the rest use defaults", self.path, len(result), channels)
            result += [ChannelCalibration(0.0, default_counts_per_gram)] * (channels - len(result))
        plates = document.get("plates", {})
        if not isinstance(plates, dict) or not all(isinstance(fit, dict) for fit in plates.values()):
            raise corrupt("'plates' must be an object of per-plate objects")
        board = document.get("board")
        if board is not None and not (isinstance(board, dict) and all(
                isinstance(board.get(key), str) for key in ("uid", "firmware"))):
            raise corrupt("'board' must be an object with uid and firmware strings")
        return Calibration(tuple(result), plates, str(self.path),
                           None if board is None else Board(board["uid"], board["firmware"]))


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
