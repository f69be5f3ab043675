"""Small helpers for the simulator tests: build shelves and scenarios, check our own frames."""

from __future__ import annotations

from edge.loadcell.framing import checksum
from edge.sim.engine import Simulation
from edge.sim.layout import ShelfLayout
from edge.sim.physics import Physics
from edge.sim.render import Block
from edge.sim.scenario import Scenario


def frame_ok(line: bytes) -> bool:
    """True when `line` is `$<body>*HH` with a matching NMEA checksum (our own tiny check)."""
    line = line.rstrip(b"\r\n")
    if not line.startswith(b"$") or line[-3:-2] != b"*":
        return False
    try:
        return checksum(line[1:-3]) == int(line[-2:], 16)
    except ValueError:
        return False


def weight_fields(line: bytes) -> tuple[int, int, list[int | None]]:
    """`$W,seq,ms,c1..cN*HH` -> (seq, ms, counts)."""
    parts = line.rstrip(b"\n")[1:-3].decode().split(",")
    assert parts[0] == "W", line
    return int(parts[1]), int(parts[2]), [int(v) if v else None for v in parts[3:]]


def quiet_scenario(duration_s: float, actions: list[dict[str, object]] | None = None, seed: int = 5) -> Scenario:
    return Scenario.model_validate(
        {
            "seed": seed,
            "duration_s": duration_s,
            "items": [{"sku": "cola", "unit_g": 352.0}, {"sku": "rice", "unit_g": 1012.0}],
            "planogram": [
                {"plate": "p1", "sku": "cola", "stock": 10},
                {"plate": "p2", "sku": "rice", "stock": 4},
                {"plate": "p3", "sku": "cola", "stock": 6},
                {"plate": "p4", "sku": "rice", "stock": 3},
            ],
            "actions": actions or [],
        }
    )


def render_all(sim: Simulation, until_s: float) -> list[Block]:
    blocks = []
    while sim.renderer.rendered_until < until_s:
        blocks.append(sim.step()[0])
    return blocks


def stacked(blocks: list[Block], field: str):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.concatenate([getattr(b, field) for b in blocks])


def layout(seed: int = 5, physics: Physics | None = None, plates: int = 4) -> ShelfLayout:
    return ShelfLayout.default(plates, 2, seed) if physics is None else _with_physics(seed, physics, plates)


def _with_physics(seed: int, physics: Physics, plates: int) -> ShelfLayout:
    base = ShelfLayout.default(plates, 2, seed)
    return ShelfLayout.build(list(base.plates), base.channels, seed, physics)
