"""A step of the host's wall clock (the frames' time) between two consecutive MCU samples is not a serial outage:
the weigher counts it (`clock_steps`), takes it out of its timeline so a change under way keeps its true
length, and reports events on the wall clock of now. A real outage (samples missing) still is one."""

from __future__ import annotations

import numpy as np
import pytest

from edge.model import WeightFrame
from edge.weighing import Weigher
from tests.weighing.signals import frames, make_config, noisy, run, step, timeline

CONFIG = make_config(plates=4)
SPS = 80.0


def _shelf(seconds: float = 20.0) -> tuple[np.ndarray, list[WeightFrame]]:
    """A -300 g pick on p1 at 8 s; frames numbered by the MCU (seq, and its clock in mcu_ms)."""
    rng = np.random.default_rng(3)
    t = timeline(seconds, SPS)
    grams = [noisy(np.full(t.shape, 500.0) + step(t, 8.0, -300.0), 0.5, rng)]
    grams += [noisy(np.full(t.shape, 400.0), 0.5, rng) for _ in range(3)]
    mcu = [WeightFrame(f.t, f.counts, seq=k, mcu_ms=round(k * 1000 / SPS)) for k, f in enumerate(frames(t, grams))]
    return t, mcu


def _stepped(mcu: list[WeightFrame], at_s: float, by_s: float) -> list[WeightFrame]:
    start = mcu[0].t
    return [WeightFrame(f.t + (by_s if f.t - start >= at_s else 0.0), f.counts, f.seq, f.mcu_ms) for f in mcu]


@pytest.mark.parametrize(("at_s", "by_s"), [(5.0, 3600.0), (5.0, -600.0), (8.15, 3600.0), (8.15, -600.0)])
def test_a_wall_clock_step_is_counted_not_an_outage_and_the_event_keeps_its_length(at_s: float, by_s: float) -> None:
    t, mcu = _shelf()
    weigher = Weigher(CONFIG)
    (plain,) = run(CONFIG, mcu)
    (event,) = run(CONFIG, _stepped(mcu, at_s, by_s), weigher=weigher)
    assert event.delta_g == pytest.approx(-300.0, abs=5.0) and "serial_outage" not in event.flags
    status = weigher.status()
    assert status.serial_outages == 0 and status.clock_steps == 1
    # the same change as without the step, on the wall clock after it (also when it stepped mid-change)
    assert event.t_end - event.t_start == pytest.approx(plain.t_end - plain.t_start, abs=0.05)
    assert event.t_end == pytest.approx(plain.t_end + by_s, abs=0.05)
    assert status.t == pytest.approx(t[-1] + by_s, abs=0.05)


def test_a_step_with_a_few_lines_lost_at_the_same_moment_is_still_a_step() -> None:
    """Soak finding: a step back that fell on a corrupted line (seq + 2) went unrecognised, so the weighing time
    ran back 10 minutes and the channel-fault hold marked every plate faulty until the step forward."""
    _, mcu = _shelf()
    stepped = _stepped(mcu, 5.0, -600.0)
    start = mcu[0].t
    lossy = [f for f in stepped if not 4.98 <= f.t - start + (600.0 if f.t - start < 0 else 0.0) < 5.02]
    weigher = Weigher(CONFIG)
    (event,) = run(CONFIG, lossy, weigher=weigher)
    assert len(lossy) < len(stepped)  # lines around the step are gone
    assert weigher.status().clock_steps == 1 and weigher.status().serial_outages == 0
    assert event.quality == "settled" and "serial_outage" not in event.flags


def test_samples_missing_across_the_gap_are_still_an_outage() -> None:
    _, mcu = _shelf()
    lost = [f for f in mcu if not 5.0 <= f.t - mcu[0].t < 7.0]  # the cable out for 2 s: seq jumps by 160
    weigher = Weigher(CONFIG)
    run(CONFIG, lost, weigher=weigher)
    status = weigher.status()
    assert status.serial_outages == 1 and status.clock_steps == 0


def test_without_the_mcu_numbering_a_gap_stays_an_outage() -> None:
    _, mcu = _shelf()
    plain = [WeightFrame(f.t, f.counts) for f in _stepped(mcu, 5.0, 3600.0)]  # plain protocol: no seq, no clock
    weigher = Weigher(CONFIG)
    run(CONFIG, plain, weigher=weigher)
    assert weigher.status().serial_outages == 1 and weigher.status().clock_steps == 0


def test_a_new_boot_counted_past_the_old_seq_is_an_outage_not_a_step() -> None:
    """A replug: the reader comes back after the new boot has numbered more lines than the old one had, and its
    clock (since boot) is near the old boot's. Two boots' mcu_ms must not be compared: that is an outage."""
    _, mcu = _shelf()
    start = mcu[0].t
    cut = next(i for i, f in enumerate(mcu) if f.t - start >= 5.0)
    back = next(i for i, f in enumerate(mcu) if f.t - start >= 10.0)
    reboot = [WeightFrame(f.t, f.counts, seq=cut + 40 + j, mcu_ms=mcu[cut].mcu_ms + round(j * 1000 / SPS))
              for j, f in enumerate(mcu[back:])]
    weigher = Weigher(CONFIG)
    run(CONFIG, mcu[:cut] + reboot, weigher=weigher)
    assert weigher.status().clock_steps == 0 and weigher.status().serial_outages == 1


def test_after_an_info_frame_a_gap_is_an_outage_even_when_the_numbering_seems_to_go_on() -> None:
    """The MCU booted (its info frame arrived): its first lines cannot be compared with the old boot's."""
    _, mcu = _shelf()
    start = mcu[0].t
    cut = next(i for i, f in enumerate(mcu) if f.t - start >= 5.0)
    back = next(i for i, f in enumerate(mcu) if f.t - start >= 10.0)
    after = [WeightFrame(f.t, f.counts, seq=cut + j, mcu_ms=mcu[cut].mcu_ms + round(j * 1000 / SPS))
             for j, f in enumerate(mcu[back:])]
    weigher = Weigher(CONFIG)
    run(CONFIG, mcu[:cut], weigher=weigher)
    weigher.observe_board("uid-1", "fw-1")
    run(CONFIG, after, weigher=weigher)
    assert weigher.status().clock_steps == 0 and weigher.status().serial_outages == 1
