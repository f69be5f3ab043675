"""The live plate-window measurement on a short tour: the live windows give no less than whole frames and no
more than replay's (they are a subset of replay's for the touched plate), at most crop_max_windows a frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import live_windows
from edge.sim.camera.tour import labelled_skus


@pytest.mark.slow
def test_short_tour_sets_the_live_choice_between_whole_frames_and_replay(shared_model_dir: Path,
                                                                          shared_images_dir: Path) -> None:
    skus = tuple(labelled_skus()[:2])
    result = live_windows.run(split="measure", per_sku=1, seed=31, skus=skus, images=shared_images_dir,
                              model=shared_model_dir)
    assert result.events == 2 and result.frames > 0  # one interaction per SKU
    assert [c.max_windows for c in result.choices] == [1, 2]
    for choice in result.choices:
        assert result.whole_hits <= choice.label_hits <= result.replay_hits
        assert 0 < choice.windows_per_frame <= choice.max_windows and choice.touched_covered <= 1
    one, two = result.choices
    assert one.windows_per_frame <= two.windows_per_frame and one.touched_covered <= two.touched_covered
    assert result.whole_cpu_ms > 0 and result.window_cpu_ms > 0
    assert live_windows.render_markdown(result).count("| live, `crop_max_windows") == 2
