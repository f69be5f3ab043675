"""Synthetic load-cell signals for the weighing tests: per-plate grams -> WeightFrames.

Each plate is one channel (or two for `split` plates) at the config's default scale, so a
test controls exactly what the detector sees: noise, steps, ramps, transients, glitches.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.config import NodeConfig, parse_config
from edge.model import WeightEvent, WeightFrame
from edge.weighing import CalibrationStore, Weigher

COUNTS_PER_GRAM = 420.0
ZERO_COUNTS = 84_000.0  # the empty plate's raw counts (not zero: offsets are part of the test)
ZERO_G = ZERO_COUNTS / COUNTS_PER_GRAM  # what that reads with the default calibration (offset 0)


def make_config(plates: int = 4, sps_note: str = "", state_dir: Path | None = None, extra: str = "") -> NodeConfig:
    """Plate i uses channel i (plates 1 channel each), 8 channels on the wire."""
    lines = [
        "[node]",
        'store_id = "s1"',
        'node_id = "n1"',
        f'state_dir = "{state_dir or "/nonexistent/shelf-node-test"}"',
        "[serial]",
        'port = "loop://"',
        "channels = 8",
        "[weighing]",
        f"counts_per_gram = {COUNTS_PER_GRAM}",
        extra,
    ]
    for index in range(plates):
        lines += ["[[plates]]", f'name = "p{index + 1}"', f"channels = [{index}]"]
    return parse_config("\n".join(lines), source=f"<test{sps_note}>")


def timeline(seconds: float, sps: float, t0: float = 1_700_000_000.0) -> np.ndarray:
    return t0 + np.arange(round(seconds * sps)) / sps


def noisy(levels: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return levels + rng.normal(0.0, sigma, size=levels.shape)


def step(t: np.ndarray, at: float, grams: float, rise_s: float = 0.3) -> np.ndarray:
    """A smooth change of `grams` starting at t0+`at` and complete `rise_s` later."""
    x = np.clip((t - t[0] - at) / max(rise_s, 1e-9), 0.0, 1.0)
    return grams * (0.5 - 0.5 * np.cos(np.pi * x))


def frames(t: np.ndarray, plate_grams: list[np.ndarray], channels: int = 8,
           corrupt: Callable[[int, list[float | None]], None] | None = None) -> list[WeightFrame]:
    """One frame per sample; channel i carries plate i's grams as raw counts."""
    out = []
    columns = [ZERO_COUNTS + COUNTS_PER_GRAM * g for g in plate_grams]
    for k, stamp in enumerate(t):
        counts: list[float | None] = [ZERO_COUNTS] * channels
        for i, column in enumerate(columns):
            counts[i] = float(round(column[k]))
        if corrupt is not None:
            corrupt(k, counts)
        out.append(WeightFrame(t=float(stamp), counts=tuple(counts), seq=k))
    return out


def run(config: NodeConfig, frame_list: list[WeightFrame], store: CalibrationStore | None = None,
        weigher: Weigher | None = None) -> list[WeightEvent]:
    weigher = weigher or Weigher(config, store)
    events: list[WeightEvent] = []
    for frame in frame_list:
        events += weigher.feed(frame)
    return events
