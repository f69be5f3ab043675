"""The simulator benchmark's short run reports what docs/bench/sim.md quotes, on the typed result."""

from __future__ import annotations

from bench import sim


def test_short_run_reports_figures() -> None:
    result = sim.run(interactions=100)
    assert result.interactions == 100 and result.channels == 8
    assert result.lines > 0.95 * result.simulated_s * result.sps  # faults drop only a few lines
    assert result.truth_records > 100
    for value in (result.simulate_s, result.baseline_s, result.ratio_vs_baseline, result.realtime_factor,
                  result.peak_rss_mb, result.capture_mb):
        assert value > 0
    assert "| simulated |" in sim.render_markdown(result)
