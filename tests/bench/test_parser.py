"""The parser benchmark's short run reports every path's rate and its cost against the baseline (no timing
asserted beyond 'a real parser does more than split + int')."""

from __future__ import annotations

from bench import parser


def test_short_run_reports_rates_and_ratios() -> None:
    result = parser.run(frames=2000, repeat=1)
    assert result.frames == 2000 and result.repeat == 1 and result.bytes_per_frame > 50
    assert set(result.frames_per_s) == {"baseline", "parser", "stream", "plain", "pty"}
    assert all(rate > 0 for rate in result.frames_per_s.values()) and result.pty_cpu_us_per_frame > 0
    assert result.cost_vs_baseline("stream") > 1  # a real parser does more than split+int
    assert result.cost_vs_baseline("baseline") == 1
    assert "| stream |" in parser.render_markdown(result)


def test_generated_lines_are_all_accepted() -> None:
    framed, plain = parser.make_lines(100)
    assert parser.parse_lines(framed) == parser.parse_plain(plain) == 100
    assert parser.parse_stream(b"\n".join(framed) + b"\n") == 100
