"""Calibration persisted as JSON in the state directory, written atomically.

Missing file (first boot) = defaults, said in a log line and in status. A corrupt file is a
CalibrationError naming the file and what to do; it is never silently replaced by defaults.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from edge.atomic_file import replace_atomically
from edge.errors import CalibrationError, StateError
from edge.weighing.calibration import Calibration, ChannelCalibration

log = logging.getLogger(__name__)

FILE_NAME = "calibration.json"
FORMAT_VERSION = 1


class CalibrationStore:
    """Load and save one calibration file. `read_only` stores (replay) refuse to save."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only

    @classmethod
    def in_state_dir(cls, state_dir: str | Path) -> CalibrationStore:
        return cls(Path(state_dir) / FILE_NAME)

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
        except (OSError, UnicodeDecodeError) as exc:
            raise CalibrationError(f"{self.path}: cannot read calibration: {exc}; check its permissions") from None
        return self._parse(text, channels, default_counts_per_gram)

    def save(self, calibration: Calibration) -> None:
        """Write temp file, fsync, rename over the old one, fsync the directory."""
        if self.read_only:
            raise CalibrationError(f"{self.path}: opened read-only (replay); calibration changes are not saved")
        document = {
            "format": FORMAT_VERSION,
            "saved_at": time.time(),
            "channels": [{"offset": c.offset, "counts_per_gram": c.counts_per_gram} for c in calibration.channels],
            "plates": calibration.plate_fits,
        }
        try:
            replace_atomically(self.path, json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise StateError(
                f"{self.path}: cannot save calibration: {exc.strerror or exc}; check the state directory"
            ) from None

    def _parse(self, text: str, channels: int, default_counts_per_gram: float) -> Calibration:
        def corrupt(reason: str) -> CalibrationError:
            return CalibrationError(
                f"{self.path}: calibration file is corrupt ({reason}); restore it from a backup, or move it "
                f"away and re-run tare and calibration"
            )

        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise corrupt(f"not JSON: {exc.msg} at line {exc.lineno}") from None
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
        if not isinstance(plates, dict):
            raise corrupt("'plates' must be an object")
        return Calibration(tuple(result), plates, str(self.path))


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
