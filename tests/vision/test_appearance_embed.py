"""CropEmbedder's descriptor kinds, and the daemon's path (pooling under the item's box of a frame the detector
already ran on) against the crop path. The model tests need ../shared; they skip with a message otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.vision.appearance import colour_descriptor, colour_descriptor_v1, pooled_descriptor
from edge.vision.appearance_embed import (
    DESCRIPTOR_KIND,
    DESCRIPTOR_KINDS,
    CropEmbedder,
    embed_under_box,
    embedding,
)


def _crop(seed: int, size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 230, np.uint8)
    image[size // 4: size // 2] = (40, 170, 60)  # a green band
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def embedders(request: pytest.FixtureRequest) -> dict[str, CropEmbedder]:
    model = request.getfixturevalue("shared_model_dir") / "detect.tflite"
    return {kind: CropEmbedder(model, descriptor=kind) for kind in DESCRIPTOR_KINDS}


def test_the_default_kind_is_the_new_descriptor_and_kinds_differ() -> None:
    assert DESCRIPTOR_KIND == "crop-v2" and CropEmbedder(None).kind == "crop-v2"
    crop = _crop(1)
    new, old = CropEmbedder(None).embed(crop), CropEmbedder(None, descriptor="crop-v1").embed(crop)
    assert np.array_equal(new.colour, colour_descriptor(crop)) and new.colour_v1 is not None
    assert np.array_equal(old.colour, colour_descriptor_v1(crop)) and old.colour_v1 is None
    assert new.combined().shape != old.combined().shape  # a vector of one kind is never compared with another's
    assert np.linalg.norm(new.combined()) == pytest.approx(1.0, abs=1e-5)


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"crop-v9.*crop-v1, crop-v2"):
        CropEmbedder(None, descriptor="crop-v9")
    with pytest.raises(ValueError, match="crop-v9"):
        embedding(_crop(2), None, "crop-v9")


def test_an_empty_crop_is_refused() -> None:
    with pytest.raises(ValueError, match="empty crop"):
        CropEmbedder(None).embed(np.zeros((0, 5, 3), np.uint8))


@pytest.mark.parametrize("kind", DESCRIPTOR_KINDS)
def test_the_daemon_path_equals_the_crop_path_when_the_frame_is_the_crop(
        embedders: dict[str, CropEmbedder], kind: str) -> None:
    """The frame's feature map pooled under the whole-frame box gives exactly what embed(crop) gives."""
    embedder = embedders[kind]
    crop = _crop(3, 128)
    frame_map = embedder.feature_map(crop)  # what the detector's interpreter holds after its invoke on the frame
    assert frame_map.shape == (10, 10, 768)
    from_box = embed_under_box(crop, frame_map, (0.0, 0.0, 1.0, 1.0), kind).combined()
    assert np.array_equal(from_box, embedder.embed(crop).combined())


def test_the_daemon_path_pools_only_the_items_cells(embedders: dict[str, CropEmbedder]) -> None:
    """An item in the left half of a frame: the backbone part is the mean of the left half's cells (the
    crop/box difference: computed on the frame, not on the crop), the colour part is the crop's own."""
    embedder = embedders[DESCRIPTOR_KIND]
    frame = np.full((300, 300, 3), 90, np.uint8)
    frame[:, :150] = _crop(4, 300)[:, :150]
    frame_map = embedder.feature_map(frame)
    crop = frame[:, :150]
    got = embed_under_box(crop, frame_map, (0.0, 0.0, 0.5, 1.0))
    left = np.sqrt(frame_map[:, :5].reshape(-1, frame_map.shape[2]).mean(axis=0))
    assert got.backbone is not None
    assert np.allclose(got.backbone, left / np.linalg.norm(left), atol=1e-6)
    assert np.array_equal(got.colour, colour_descriptor(crop))
    right = pooled_descriptor(frame_map, (0.5, 0.0, 1.0, 1.0))
    assert np.linalg.norm(got.backbone - right) > 0.05  # the grey half pools to something else
    own = embedder.embed(crop).combined()  # the crop path: a second invoke on the crop itself
    assert float(own @ got.combined()) > 0.8  # close, not equal: the map was computed on the frame


def test_a_colour_only_embedder_has_no_feature_map() -> None:
    with pytest.raises(ValueError, match="no model"):
        CropEmbedder(None).feature_map(_crop(5))


def test_default_kind_is_used_by_a_model_path(shared_model_dir: Path) -> None:
    embedder = CropEmbedder(shared_model_dir / "detect.tflite")
    vector = embedder.describe([_crop(6), _crop(7)])
    assert embedder.kind == DESCRIPTOR_KIND and vector.shape == (931,) and vector.dtype == np.float32
