"""Process CPU, resident memory and SoC temperature for the stats message (Linux /proc and /sys)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THERMAL_ZONES = Path("/sys/class/thermal")


@dataclass(frozen=True, slots=True)
class HostSample:
    """One sample of the host: None where it cannot be known (no previous sample, no /proc, no sensor)."""

    cpu_percent: float | None
    rss_bytes: int | None
    temperature_c: float | None

    def to_json(self) -> dict[str, Any]:
        return {"cpu_percent": self.cpu_percent, "rss_bytes": self.rss_bytes, "temperature_c": self.temperature_c}


class HostStats:
    """CPU % of this process since the previous sample (100 = one full core)."""

    def __init__(self) -> None:
        self._last_wall = time.monotonic()
        self._last_cpu = time.process_time()

    def sample(self) -> HostSample:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self._last_wall
        percent = round(100.0 * (cpu - self._last_cpu) / elapsed, 1) if elapsed > 0 else None
        self._last_wall, self._last_cpu = wall, cpu
        return HostSample(cpu_percent=percent, rss_bytes=rss_bytes(), temperature_c=temperature_c())


def rss_bytes() -> int | None:
    """Current resident set size from /proc/self/status, None where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def temperature_c() -> float | None:
    """Hottest thermal zone in degrees C (a Pi has one: the SoC); None when there is none (VMs)."""
    readings = []
    for zone in sorted(THERMAL_ZONES.glob("thermal_zone*/temp")):
        try:
            readings.append(int(zone.read_text().strip()) / 1000.0)
        except (OSError, ValueError):
            continue
    return max(readings) if readings else None
