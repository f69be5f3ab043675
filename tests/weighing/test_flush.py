"""Weigher.flush (issue 11, nothing lost at stop): a change begun and not yet reported comes out at a stop or at
the end of a capture, flagged `stopped_early`, instead of being dropped with the weigher."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from edge.model import WeightEvent, WeightFrame
from edge.weighing import Weigher
from tests.weighing.signals import frames, make_config, noisy, step, timeline

CONFIG = make_config(plates=4)


def _shelf(seconds: float, sps: float, p1: Callable[[np.ndarray], np.ndarray] | None = None,
           seed: int = 1) -> tuple[np.ndarray, list[WeightFrame]]:
    """Four plates at rest (p1's grams from `p1(t)` when given), `seconds` long."""
    rng = np.random.default_rng(seed)
    t = timeline(seconds, sps)
    plates = [noisy(np.full(t.shape, 600.0 + 100 * i), 0.8, rng) for i in range(4)]
    if p1 is not None:
        plates[0] = noisy(p1(t), 0.8, rng)
    return t, frames(t, plates)


def _feed(weigher: Weigher, frame_list: list[WeightFrame]) -> list[WeightEvent]:
    events: list[WeightEvent] = []
    for frame in frame_list:
        events += weigher.feed(frame)
    return events


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_a_pick_still_settling_at_the_stop_comes_out_forced_and_flagged(sps: float) -> None:
    # 350 g lifted over 1.5 s from second 5; the stop comes at second 6, while the hand is still lifting
    t, frame_list = _shelf(6.0, sps, lambda t: 2000 + step(t, 5.0, -350, 1.5))
    weigher = Weigher(CONFIG)
    assert _feed(weigher, frame_list) == []  # nothing settled yet: without flush this change is lost
    (event,) = weigher.flush(frame_list[-1].t)
    assert list(event.plate_deltas) == ["p1"]
    assert event.quality == "forced"
    assert "stopped_early" in event.flags and "forced" in event.flags
    assert -350 < event.delta_g < -10  # what had left the plate by the stop
    assert event.t_start == pytest.approx(t[0] + 5.0, abs=0.35)
    assert event.t_start < event.t_end <= frame_list[-1].t
    assert weigher.status().events == 1
    assert weigher.flush(frame_list[-1].t) == []  # once only


def test_a_heavy_put_held_for_the_lean_test_is_released_at_the_stop() -> None:
    # +2.5 kg settled at second 6.5: held for hold_s (7 s); the stop comes 2 s later
    _, frame_list = _shelf(8.5, 80.0, lambda t: 500 + step(t, 6.0, 2500, 0.5))
    weigher = Weigher(CONFIG)
    assert _feed(weigher, frame_list) == []
    (event,) = weigher.flush(frame_list[-1].t)
    assert event.quality == "settled"
    assert event.delta_g == pytest.approx(2500, abs=3)
    assert {"held", "stopped_early"} <= set(event.flags)


def test_flush_on_a_quiet_shelf_or_before_weighing_started_reports_nothing() -> None:
    _, frame_list = _shelf(10.0, 80.0)
    weigher = Weigher(CONFIG)
    assert _feed(weigher, frame_list[:5]) == []
    assert weigher.flush(frame_list[4].t) == []  # still measuring the sample rate
    assert _feed(weigher, frame_list[5:]) == []
    assert weigher.flush(frame_list[-1].t) == []
    assert weigher.status().events == 0


def test_a_settled_change_already_reported_is_not_reported_again_and_weighing_goes_on() -> None:
    _, frame_list = _shelf(20.0, 80.0, lambda t: 2000 + step(t, 5.0, -200, 0.3) + step(t, 14.0, -100, 0.3))
    weigher = Weigher(CONFIG)
    first = _feed(weigher, frame_list[:800])  # the first pick settled, reported as usual
    assert [round(e.delta_g) for e in first] == [-200] and "stopped_early" not in first[0].flags
    assert weigher.flush(frame_list[799].t) == []
    later = _feed(weigher, frame_list[800:])
    assert [round(e.delta_g) for e in later] == [-100]
