"""bench/gallery.py on a tiny run (colour descriptors only, a few examples): the curve starts with every twin
in review, the splitter never votes on an untrusted plate, and the result renders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.gallery import BENCHMARK, GalleryResult, render_markdown, run


def test_tiny_run(shared_images_dir: Path) -> None:
    result = run(seed=5, per_sku=12, eval_per_sku=4, crops_per_event=1, backbone=False)
    assert isinstance(result, GalleryResult) and dataclasses.is_dataclass(result)
    assert [p.examples for p in result.curve] == [0, 10]
    start = result.curve[0]
    assert start.review_rate == 1.0 and start.votes == 0  # no gallery: every same-label twin is flagged
    for point in result.curve:
        assert point.votes_untrusted == 0
        assert point.events == 4 * 8
    assert [row.run for row in result.poison][1] == "2% wrong, guard on"
    assert result.day_events == 12 * 8
    text = render_markdown(result)
    assert "| examples per SKU | twin review rate" in text and "guard off" in text
    assert BENCHMARK.name == "gallery" and BENCHMARK.unavailable() is None
