"""Per-event jitter of product photos: deterministic for a seed, different across seeds, the right shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.sim.camera.photos import TEACH, TEST, Jitter, PhotoLibrary, jittered_crop


def _photo() -> np.ndarray:
    y, x = np.mgrid[0:96, 0:120]
    return np.stack([x * 2.0, y * 2.5, np.full_like(x, 120.0)], axis=-1).astype(np.float32)


def test_jitter_is_deterministic_and_varies_by_seed() -> None:
    photo = _photo()
    a = jittered_crop(photo, np.random.default_rng(5))
    b = jittered_crop(photo, np.random.default_rng(5))
    c = jittered_crop(photo, np.random.default_rng(6))
    assert a.shape == (128, 128, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 2


def test_no_jitter_keeps_the_photo() -> None:
    still = Jitter(scale=(1.0, 1.0), rotation_deg=0.0, gain=(1.0, 1.0), colour_cast=0.0, blur_px=(0, 0),
                   occlusion=(0.0, 0.0), noise=0.0)
    photo = np.full((64, 64, 3), 90.0, np.float32)
    crop = jittered_crop(photo, np.random.default_rng(1), 32, still)
    assert np.abs(crop.astype(int) - 90).max() <= 1


def test_a_hand_covers_part_of_the_crop() -> None:
    hand_only = Jitter(scale=(1.0, 1.0), rotation_deg=0.0, gain=(1.0, 1.0), colour_cast=0.0, blur_px=(0, 0),
                       occlusion=(0.3, 0.3), noise=0.0)
    photo = np.zeros((64, 64, 3), np.float32)
    crop = jittered_crop(photo, np.random.default_rng(2), 64, hand_only)
    covered = (crop.sum(axis=2) > 60).mean()
    assert 0.1 < covered < 0.45


def test_teach_and_test_photos_are_disjoint(shared_images_dir: Path) -> None:
    teach, test = PhotoLibrary(shared_images_dir, TEACH), PhotoLibrary(shared_images_dir, TEST)
    family = "Pink-Lady"
    teach_files = {p.file for p in teach.families[family]}
    test_files = {p.file for p in test.families[family]}
    # alternating by path within the family (edge.sim.photo_rates.split_photos): the grocery-store photo sorts
    # first, so the teach half has it and the even-numbered sku photos, the test half the odd-numbered ones
    assert not teach_files & test_files and len(teach_files) + len(test_files) == 21
    assert "sku-photos/Pink-Lady/Pink-Lady_002.jpg" in teach_files
    assert "sku-photos/Pink-Lady/Pink-Lady_001.jpg" in test_files
