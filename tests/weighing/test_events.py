"""Weight events on hand-made signals: picks, plates, drift, slow loads, faulty channels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge.weighing import Weigher, weight_event_to_dict
from tests.weighing.signals import ZERO_G, frames, make_config, noisy, run, step, timeline

CONFIG = make_config(plates=4)


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_two_quick_picks_on_one_plate_conserve_the_total(sps: float) -> None:
    rng = np.random.default_rng(7)
    t = timeline(30, sps)
    hand = (t - t[0] > 10.0) & (t - t[0] < 11.2)
    p1 = 2000 + step(t, 10.0, -180, 0.3) + step(t, 10.6, -95, 0.3) + hand * rng.normal(0, 5, t.shape)
    events = run(CONFIG, frames(t, [noisy(p1, 0.8, rng)]))
    assert 1 <= len(events) <= 2
    assert sum(e.delta_g for e in events) == pytest.approx(-275, abs=2.0)
    assert all(e.plate_deltas.keys() == {"p1"} for e in events)


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_simultaneous_picks_on_separate_plates_stay_separate(sps: float) -> None:
    rng = np.random.default_rng(8)
    t = timeline(30, sps)
    p1 = noisy(1500 + step(t, 10.0, -120, 0.4), 0.8, rng)
    p3 = noisy(900 + step(t, 10.0, -60, 0.4), 0.8, rng)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    events = run(CONFIG, frames(t, [p1, flat, p3, flat.copy()]))
    assert sorted((list(e.plate_deltas), round(e.delta_g)) for e in events) == [(["p1"], -120), (["p3"], -60)]


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_an_item_across_two_plates_is_one_event_with_the_split(sps: float) -> None:
    rng = np.random.default_rng(9)
    t = timeline(30, sps)
    p2 = noisy(1000 + step(t, 10.0, 140 * 0.3, 0.3), 0.8, rng)
    p3 = noisy(1000 + step(t, 10.02, 140 * 0.7, 0.3), 0.8, rng)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    events = run(CONFIG, frames(t, [flat, p2, p3, flat.copy()]))
    assert len(events) == 1, events
    event = events[0]
    assert event.plate_deltas.keys() == {"p2", "p3"}
    assert event.plate_deltas["p2"] == pytest.approx(42, abs=1.5)
    assert event.plate_deltas["p3"] == pytest.approx(98, abs=1.5)
    assert event.delta_g == pytest.approx(140, abs=2)
    assert "multi_plate" in event.flags


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_drift_of_20_g_per_hour_is_absorbed(sps: float) -> None:
    rng = np.random.default_rng(10)
    t = timeline(3600, sps)
    p1 = noisy(800 + 20 * (t - t[0]) / 3600, 0.8, rng)
    weigher = Weigher(make_config(plates=1))
    assert run(CONFIG, frames(t, [p1]), weigher=weigher) == []
    plate = weigher.status().plates["p1"]
    assert plate.reference_g == pytest.approx(ZERO_G + 820, abs=1.0)  # zero tracking followed it


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_zero_tracking_does_not_eat_a_slow_real_load(sps: float) -> None:
    """30 g added over 20 s: reported (possibly in parts), or still visible against the reference."""
    rng = np.random.default_rng(11)
    t = timeline(60, sps)
    p1 = noisy(800 + 30 * np.clip((t - t[0] - 10) / 20, 0, 1), 0.8, rng)
    weigher = Weigher(make_config(plates=1))
    events = run(CONFIG, frames(t, [p1]), weigher=weigher)
    assert events, "a slow 30 g load must produce an event"
    plate = weigher.status().plates["p1"]
    assert plate.level_g is not None and plate.reference_g is not None
    reported = sum(e.delta_g for e in events)
    not_yet_reported = plate.level_g - plate.reference_g
    assert reported + not_yet_reported == pytest.approx(30, abs=1.5)


def test_a_dead_channel_is_reported_and_flags_the_event() -> None:
    rng = np.random.default_rng(12)
    t = timeline(30, 80.0)
    p1 = noisy(1000 + step(t, 10.0, -200, 0.3), 0.8, rng)

    def dropouts(k: int, counts: list[float | None]) -> None:
        if 700 <= k <= 760 or k % 97 == 0:
            counts[0] = None  # channel 0 not answering
        if k >= 2000:
            counts[2] = 8_388_607  # channel 2 stuck at the positive rail from 25 s on
        if k == 1500:
            counts[1] = float("nan")  # not a number: counted, never poisons a level

    weigher = Weigher(CONFIG)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    events = run(CONFIG, frames(t, [p1, flat, flat.copy()], corrupt=dropouts), weigher=weigher)
    assert len(events) == 1
    assert events[0].delta_g == pytest.approx(-200, abs=2)
    assert events[0].quality == "faulty_channel"
    status = weigher.status()
    assert status.plates["p3"].faulty_channels == (2,)
    assert status.channels[2].last_fault == "saturated"
    assert status.channels[0].silent_frames > 60
    assert status.channels[1].invalid_frames == 1
    assert status.plates["p2"].level_g == pytest.approx(600 + ZERO_G, abs=1)
    assert status.plates["p3"].grams is None


def test_event_dict_is_json_safe_with_both_time_forms() -> None:
    rng = np.random.default_rng(13)
    t = timeline(20, 80.0)
    events = run(CONFIG, frames(t, [noisy(500 + step(t, 5.0, 75.0), 0.5, rng)]))
    record = weight_event_to_dict(events[0])
    assert json.loads(json.dumps(record)) == record
    assert record["t_start_iso"].startswith("2023-11-14T22:13:2") and record["t_start_iso"].endswith("Z")
    assert record["plates"] == ["p1"] and record["quality"] == "settled"
    assert record["delta_g"] == pytest.approx(75, abs=1)


@pytest.mark.parametrize("sps", [10.0, 80.0])
def test_a_steady_heavy_lean_is_held_and_dropped_while_a_heavy_restock_is_reported(sps: float) -> None:
    """An arm resting 3 s on a plate without trembling looks settled; it is heavier than any item,
    so it is held until it comes back. A 4 kg restock that stays is reported (late, flagged)."""
    rng = np.random.default_rng(14)
    t = timeline(40, sps)
    lean = step(t, 5.0, 6000.0, 0.3) - step(t, 8.0, 6000.0, 0.3)
    restock = step(t, 20.0, 4000.0, 0.4)
    flat = noisy(np.full(t.shape, 600.0), 0.8, rng)
    events = run(CONFIG, frames(t, [noisy(900 + lean, 0.8, rng), flat, noisy(700 + restock, 0.8, rng)]))
    assert [(list(e.plate_deltas), round(e.delta_g, -1), e.flags) for e in events] == [(["p3"], 4000.0, ("held",))]
    assert events[0].t_start == pytest.approx(t[0] + 20.0, abs=0.2)


def test_status_and_tare_from_another_thread_while_feeding() -> None:
    """The daemon feeds from one thread; technicians ask for status or tare from another."""
    import threading

    rng = np.random.default_rng(15)
    t = timeline(20, 80.0)
    frame_list = frames(t, [noisy(np.full(t.shape, 400.0), 0.5, rng), noisy(500 + step(t, 12.0, 60.0), 0.5, rng)])
    weigher = Weigher(CONFIG)
    seen: list[dict[str, object]] = []
    done = threading.Event()

    def technician() -> None:
        while not done.is_set():
            seen.append(weigher.status().to_json())

    helper = threading.Thread(target=technician)
    helper.start()
    events = []
    for k, frame in enumerate(frame_list):
        events += weigher.feed(frame)
        if k == 800:
            weigher.tare("p1")
    done.set()
    helper.join(timeout=10)
    assert len(seen) > 10 and all(json.loads(json.dumps(s)) == s for s in seen[:50])
    assert [round(e.delta_g) for e in events] == [60]
    assert weigher.stable_reading("p1") == pytest.approx(0.0, abs=0.5)


def test_status_is_a_frozen_record_whose_json_keeps_the_published_keys() -> None:
    import dataclasses

    from edge.loadcell.channel_faults import ChannelStatus
    from edge.weighing.status import PlateStatus, WeigherStatus

    rng = np.random.default_rng(16)
    t = timeline(5, 80.0)
    weigher = Weigher(CONFIG)
    run(CONFIG, frames(t, [noisy(np.full(t.shape, 300.0), 0.5, rng)]), weigher=weigher)
    status = weigher.status()
    assert isinstance(status, WeigherStatus) and isinstance(status.plates["p1"], PlateStatus)
    assert isinstance(status.channels[0], ChannelStatus) and len(status.channels) == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.frames = 0  # type: ignore[misc]
    data = status.to_json()
    assert list(data) == ["t", "samples_per_s", "shelf_stable", "calibration", "calibrated_plates", "plates",
                          "channels", "frames", "events", "board", "board_changed", "serial_outages",
                          "clock_steps"]
    assert list(data["plates"]["p1"]) == ["grams", "stable", "state", "noise_sigma_g", "reference_g", "level_g",
                                          "channels", "faulty_channels", "over_range"]
    assert data["plates"]["p1"]["channels"] == [0] and data["plates"]["p1"]["state"] == "quiet"
    assert list(data["channels"]) == [str(i) for i in range(8)]
    assert data["channels"]["0"] == {"faulty": False, "last_fault": None, "silent_frames": 0, "saturated_frames": 0,
                                     "invalid_frames": 0, "stuck_events": 0, "stuck_now": False}
    assert data["frames"] == len(t) and data["samples_per_s"] == pytest.approx(80.0, abs=0.01)
    assert json.loads(json.dumps(data)) == data
