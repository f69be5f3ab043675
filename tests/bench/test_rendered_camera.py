"""The rendered-camera measurement on a short tour: typed rates per label / SKU / family, beside the
statistical camera's, and the JSON layout of docs/bench/rendered-camera.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import rendered_camera
from edge.sim.camera.tour import labelled_skus


@pytest.mark.slow
def test_short_tour_reports_rates_beside_the_statistical_camera(shared_model_dir: Path,
                                                                 shared_images_dir: Path) -> None:
    skus = tuple(labelled_skus()[:2])
    result = rendered_camera.run(per_sku=2, skus=skus, images=shared_images_dir, model=shared_model_dir)
    assert result.interactions == 4 and result.frames > 0
    assert set(result.rates["sku"]) == set(skus) and set(result.statistical) == set(rendered_camera.KEYS)
    for key in rendered_camera.KEYS:
        assert sum(r.interactions for r in result.rates[key].values()) == 4
        assert all(0.0 <= r.hit_rate <= 1.0 for r in result.rates[key].values())
    report = rendered_camera.as_json(result)
    assert report["interactions"] == 4 and len(report["interactions_detail"]) == 4  # type: ignore[arg-type]
    assert rendered_camera.render_markdown(result).count("| sku |") == 1


def test_unavailable_names_what_is_missing(tmp_path: Path) -> None:
    assert "model" in (rendered_camera.unavailable(tmp_path, tmp_path) or "")
