"""Invariants of the weight-event detector over random signals (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.weighing.signals import frames, make_config, noisy, run, step, timeline

CONFIG = make_config(plates=2)
rates = st.sampled_from([10.0, 40.0, 80.0])
sigmas = st.floats(0.2, 1.4)
seeds = st.integers(0, 2**31)
FAST = settings(max_examples=25, deadline=None)


@FAST
@given(sps=rates, sigma=sigmas, seed=seeds)
def test_flat_signal_with_realistic_noise_never_yields_an_event(sps: float, sigma: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = timeline(60, sps)
    plates = [noisy(np.full(t.shape, 500.0), sigma, rng), noisy(np.zeros(t.shape), sigma, rng)]
    assert run(CONFIG, frames(t, plates)) == []


@FAST
@given(sps=rates, sigma=sigmas, seed=seeds, grams=st.floats(15, 3000), sign=st.sampled_from([-1, 1]),
       rise=st.floats(0.05, 1.0))
def test_a_step_yields_exactly_one_event_of_its_size(sps: float, sigma: float, seed: int, grams: float,
                                                     sign: int, rise: float) -> None:
    rng = np.random.default_rng(seed)
    t = timeline(20, sps)
    plates = [noisy(3000 + step(t, 8.0, sign * grams, rise), sigma, rng), noisy(np.zeros(t.shape), sigma, rng)]
    events = run(CONFIG, frames(t, plates))
    assert len(events) == 1, events
    event = events[0]
    assert event.plate_deltas.keys() == {"p1"}
    assert abs(event.delta_g - sign * grams) <= 3 * event.sigma_g + 1.0, (event, sign * grams)
    assert t[0] + 7.9 <= event.t_start <= t[0] + 8.0 + rise + 0.2
    assert event.t_start < event.t_end <= t[0] + 8.0 + rise + 1.5
    assert event.quality == "settled"


@FAST
@given(sps=rates, sigma=sigmas, seed=seeds, grams=st.floats(20, 600), duration=st.floats(0.2, 3.0),
       tremor=st.floats(4.0, 10.0))
def test_a_transient_that_returns_to_its_level_yields_no_event(sps: float, sigma: float, seed: int, grams: float,
                                                                duration: float, tremor: float) -> None:
    """A hand leaning on the shelf (trembling at >= 4x the quiet noise) or a bump, then gone."""
    tremor *= sigma
    rng = np.random.default_rng(seed)
    t = timeline(20, sps)
    up = step(t, 8.0, grams, 0.15) - step(t, 8.0 + duration, grams, 0.15)
    hand = up + (up > 1) * rng.normal(0.0, tremor, t.shape)
    plates = [noisy(700 + hand, sigma, rng), noisy(np.zeros(t.shape), sigma, rng)]
    assert run(CONFIG, frames(t, plates)) == []


@FAST
@given(sps=rates, sigma=sigmas, seed=seeds, glitch=st.floats(-5e4, 5e4), where=st.floats(3, 17))
def test_a_single_sample_glitch_yields_no_event(sps: float, sigma: float, seed: int, glitch: float,
                                                where: float) -> None:
    rng = np.random.default_rng(seed)
    t = timeline(20, sps)
    p1 = noisy(np.full(t.shape, 800.0), sigma, rng)
    p1[int(where * sps)] += glitch
    assert run(CONFIG, frames(t, [p1, noisy(np.zeros(t.shape), sigma, rng)])) == []


def test_the_docstring_examples_hold() -> None:
    import doctest

    from edge.weighing import marks, robust, shape

    for module in (robust, marks, shape):
        assert doctest.testmod(module).failed == 0
