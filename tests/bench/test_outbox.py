"""The outbox benchmark's short run, against a real local mosquitto (figures are not asserted, only reported)."""

from __future__ import annotations

from bench import outbox


def test_short_run_reports_append_and_drain(broker: object) -> None:  # `broker` only to skip without mosquitto
    result = outbox.run(events=500, appends=30)
    assert result.events == 500 and result.append_count == 30
    assert result.drain_events_per_s > 0 and result.outbox_us > 0 and result.bare_paho_events_per_s > 0
    assert result.drain_peak_rss_mb > 1 and result.append_vs_bare_sqlite > 0 and result.drain_vs_bare_paho > 0
    assert "bare paho QoS 1" in outbox.render_markdown(result)
    assert outbox.unavailable() is None  # mosquitto is here (the fixture skipped otherwise)
