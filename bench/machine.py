"""The machine a benchmark run measured on, captured once per run (CPU, cores, memory, load, versions)."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from importlib import metadata

PACKAGES = ("numpy", "opencv-python-headless", "simplejpeg", "ai-edge-litert", "paho-mqtt", "pydantic", "pyserial")


@dataclass(frozen=True, slots=True)
class Machine:
    arch: str
    cpu: str  # model name from lscpu
    cores: int  # logical CPUs this process may use
    memory_gib: float
    os: str
    python: str
    versions: tuple[tuple[str, str], ...]  # (package, version); "-" when not installed
    load_average: tuple[float, float, float]  # 1, 5, 15 minutes, when captured

    def describe(self) -> str:
        versions = ", ".join(f"{name} {version}" for name, version in self.versions)
        load = " / ".join(f"{v:.2f}" for v in self.load_average)
        return (f"{self.arch}, {self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB; {self.os}, "
                f"Python {self.python}; {versions}. Load average (1 / 5 / 15 min) at the start: {load}")


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (one, five, fifteen)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")),
                platform.processor() or "unknown CPU")


def mosquitto_version() -> str:
    from edge.demo.broker import MOSQUITTO, mosquitto_available

    if not mosquitto_available():
        return "-"
    try:
        out = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    first = out.splitlines()[0] if out else ""
    return first.split("version", 1)[1].split()[0] if "version" in first else "-"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def _os_name() -> str:
    try:
        with open("/etc/os-release") as handle:
            fields = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    except OSError:
        return platform.system()
    return fields.get("PRETTY_NAME", platform.system()).strip('"')


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def capture() -> Machine:
    versions = [(name, _version(name)) for name in PACKAGES]
    versions += [("SQLite", sqlite3.sqlite_version), ("mosquitto", mosquitto_version())]
    return Machine(arch=platform.machine(), cpu=cpu_model(), cores=len(os.sched_getaffinity(0)),
                   memory_gib=_memory_gib(), os=_os_name(), python=platform.python_version(),
                   versions=tuple(versions), load_average=load_average())
