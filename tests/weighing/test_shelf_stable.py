"""`Weigher.shelf_stable()` (asked after every frame by the daemon) agrees with the full status."""

from __future__ import annotations

import numpy as np

from edge.weighing import Weigher
from tests.weighing.signals import frames, make_config, noisy, step, timeline


def test_shelf_stable_follows_a_change_and_matches_status() -> None:
    rng = np.random.default_rng(4)
    t = timeline(8.0, 80.0)
    plates = [noisy(np.zeros_like(t), 0.5, rng) for _ in range(4)]
    plates[1] = noisy(step(t, at=4.0, grams=-300.0), 0.5, rng)
    weigher = Weigher(make_config())
    seen: list[tuple[float, bool]] = []
    for frame in frames(t, plates):
        weigher.feed(frame)
        stable = weigher.shelf_stable()
        assert stable == weigher.status().shelf_stable
        seen.append((frame.t - t[0], stable))
    assert not any(stable for at, stable in seen if at < 0.05)  # nothing is stable before the rate is known
    assert all(stable for at, stable in seen if 2.5 <= at <= 3.9)  # quiet before the change
    assert not any(stable for at, stable in seen if 4.1 <= at <= 4.3)  # moving during it
    assert all(stable for at, stable in seen if at >= 7.0)  # settled after
