"""Error rates per part flip the verdict: degraded with reasons, fault only for a part that cannot recover."""

from __future__ import annotations

from edge.control.health import ErrorRates, RateRule


def feed(rates: ErrorRates, start: float, seconds: int, per_second: dict[str, int],
         base: dict[str, int] | None = None) -> dict[str, int]:
    counters = dict(base or dict.fromkeys(per_second, 0))
    for i in range(seconds + 1):
        rates.observe(start + i, counters)
        counters = {part: counters[part] + per_second.get(part, 0) for part in counters}
    return counters


def test_a_detector_failing_on_every_frame_degrades_the_node_but_never_faults_it() -> None:
    rates = ErrorRates()
    feed(rates, 0.0, 600, {"detector": 10, "serial": 0})
    verdict = rates.verdict(600.0)
    assert verdict.state == "degraded" and not verdict.healthy
    assert verdict.reasons == ("detector: 600 errors in the last 60 s",)


def test_a_few_errors_stay_healthy_and_an_ended_burst_recovers() -> None:
    rates = ErrorRates()
    counters = feed(rates, 0.0, 60, {"link": 0})
    assert rates.verdict(60.0).healthy
    counters = feed(rates, 61.0, 10, {"link": 1}, counters)  # 10 reconnect failures in 10 s
    assert rates.verdict(71.0).reasons == ("link: 10 errors in the last 60 s",)
    feed(rates, 72.0, 70, {"link": 0}, counters)
    assert rates.verdict(142.0).healthy  # the window slid past the burst


def test_only_a_part_that_cannot_recover_turns_into_a_fault() -> None:
    rates = ErrorRates({"processing": RateRule(0, fatal_after_s=30.0), "camera": RateRule(3)})
    counters = feed(rates, 0.0, 20, {"processing": 1, "camera": 1})
    assert rates.verdict(20.0).state == "degraded"
    feed(rates, 21.0, 40, {"processing": 1, "camera": 1}, counters)
    rates.verdict(40.0)
    verdict = rates.verdict(61.0)
    assert verdict.state == "fault" and verdict.reasons[0].startswith("processing: failing for")
    assert any(r.startswith("camera:") for r in verdict.reasons)


def test_a_restarted_counter_counts_from_zero() -> None:
    rates = ErrorRates({"camera": RateRule(3)})
    rates.observe(0.0, {"camera": 50})
    rates.observe(1.0, {"camera": 2})  # the camera part was rebuilt: its counter starts again
    assert rates.recent("camera") == 2 and rates.verdict(1.0).healthy


def test_a_burst_that_ended_degrades_for_the_window_but_never_restarts() -> None:
    rates = ErrorRates({"processing": RateRule(0, fatal_after_s=30.0)})
    counters = feed(rates, 0.0, 5, {"processing": 3})  # a 5 s stall, then fine
    for t in range(6, 60):
        rates.observe(float(t), counters)
        assert rates.verdict(float(t)).state == "degraded"  # within the window, never fault
    rates.observe(70.0, counters)
    assert rates.verdict(70.0).healthy
