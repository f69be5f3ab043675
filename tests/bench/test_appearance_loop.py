"""bench/appearance_loop.py on a tiny gallery: too few examples to trust, so every twin pick stays flagged and
describing it costs nothing; the figures are there and the markdown names them. Needs ../shared."""

from __future__ import annotations

from pathlib import Path

from bench.appearance_loop import BENCHMARK, render_markdown, run


def test_a_tiny_gallery_keeps_twins_flagged_and_costs_nothing_per_event(shared_model_dir: Path,
                                                                       shared_images_dir: Path) -> None:
    result = run(examples=12, picks=3, invokes=3)
    assert result.settled_right == 0 and result.flagged == 3  # 12 per SKU cannot pass 0.98
    assert result.describe_untrusted_ms < 5.0 and result.describe_trusted_ms[0] < 5.0  # no trusted plate: no invoke
    assert result.refresh_cold_ms_per_crop > 1.0 and min(result.invoke_ms) > 0
    text = render_markdown(result)
    assert "0/3" in text and "keep_intermediates" in text
    assert BENCHMARK.unavailable() is None
