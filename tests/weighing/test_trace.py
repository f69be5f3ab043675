"""The trace excerpt a weight event carries for the item event's evidence (edge/weighing/trace.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edge.model import PlateTrace
from edge.weighing.trace import MAX_POINTS, excerpt, merged, shifted
from tests.weighing.signals import ZERO_G, frames, make_config, noisy, run, step, timeline

CONFIG = make_config(plates=4)


def test_a_short_trace_is_kept_whole_and_a_long_one_bounded_with_its_ends() -> None:
    short = [(float(i), float(i % 3)) for i in range(MAX_POINTS)]
    assert excerpt(short) == tuple(short)
    long = [(i / 80, 100.0 * np.sin(i / 50)) for i in range(2400)]  # 30 s at 80 SPS (max_active_s)
    picked = excerpt(long)
    assert len(picked) == MAX_POINTS and picked[0] == long[0] and picked[-1] == long[-1]
    assert all(a[0] < b[0] for a, b in itertools.pairwise(picked))  # in time order, no repeats
    assert set(picked) <= set(long)  # samples the weigher saw, none made up


def test_a_press_and_its_release_keep_their_peak_which_a_subsample_would_miss() -> None:
    """A hand presses 3 samples long, 200 g, in a 1,000-sample change: the excerpt keeps its top."""
    points = [(i / 80, 500.0) for i in range(1000)]
    for i in (401, 402, 403):
        points[i] = (i / 80, 700.0)
    assert max(g for _, g in excerpt(points)) == 700.0
    assert max(points[i][1] for i in range(0, 1000, 1000 // MAX_POINTS)) == 500.0  # an even subsample misses it


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_a_pick_carries_its_trace_before_during_and_after(sps: float) -> None:
    rng = np.random.default_rng(11)
    t = timeline(30, sps)
    p1 = noisy(1500 + step(t, 10.0, -350, 0.4), 0.8, rng)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    events = run(CONFIG, frames(t, [p1, flat, flat.copy(), flat.copy()]))
    assert len(events) == 1
    event = events[0]
    assert [trace.plate for trace in event.traces] == ["p1"]
    points = event.traces[0].points
    assert 10 <= len(points) <= MAX_POINTS
    times = [at for at, _ in points]
    assert times == sorted(times) and times[0] < event.t_start and times[-1] >= event.t_end
    before = [g for at, g in points if at < event.t_start]
    after = [g for at, g in points if at >= event.t_end]
    assert np.median(before) == pytest.approx(ZERO_G + 1500, abs=3) and np.median(after) == pytest.approx(
        ZERO_G + 1150, abs=3)
    assert min(g for _, g in points) >= ZERO_G + 1140 and max(g for _, g in points) <= ZERO_G + 1510
    # not part of the weight event's identity: an event equals itself without it
    assert event == type(event)(event.t_start, event.t_end, event.plate_deltas, event.delta_g, event.sigma_g,
                                event.quality, event.flags)


def test_an_item_across_plates_has_a_trace_per_plate() -> None:
    rng = np.random.default_rng(9)
    t = timeline(30, 80.0)
    p2 = noisy(1000 + step(t, 10.0, 140 * 0.3, 0.3), 0.8, rng)
    p3 = noisy(1000 + step(t, 10.02, 140 * 0.7, 0.3), 0.8, rng)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    (event,) = run(CONFIG, frames(t, [flat, p2, p3, flat.copy()]))
    assert [trace.plate for trace in event.traces] == ["p2", "p3"]
    rises = {trace.plate: trace.points[-1][1] - trace.points[0][1] for trace in event.traces}
    assert rises["p2"] == pytest.approx(42, abs=4) and rises["p3"] == pytest.approx(98, abs=4)


def test_netting_and_clock_steps_keep_the_traces_consistent() -> None:
    first = (PlateTrace("p1", ((1.0, 0.0), (2.0, 2000.0))),)
    second = (PlateTrace("p1", ((5.0, 2000.0), (6.0, 300.0))), PlateTrace("p2", ((5.0, 10.0), (6.0, 0.0))))
    netted = {trace.plate: trace.points for trace in merged(first, second)}
    assert netted == {"p1": ((1.0, 0.0), (2.0, 2000.0), (5.0, 2000.0), (6.0, 300.0)), "p2": ((5.0, 10.0), (6.0, 0.0))}
    assert shifted(first, 600.0)[0].points == ((601.0, 0.0), (602.0, 2000.0))

