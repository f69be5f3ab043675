"""The shared model and photos beside the repo (../shared); tests skip clearly without them."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(__import__("os").environ.get("SHELF_NODE_SHARED", REPO.parent / "shared"))
MODEL_DIR = SHARED / "models" / "coco_ssd_mobilenet_v1_1.0_quant"


@pytest.fixture(scope="session")
def shared_model_dir() -> Path:
    if not (MODEL_DIR / "detect.tflite").is_file():
        pytest.skip(f"needs the shared COCO model at {MODEL_DIR} (set SHELF_NODE_SHARED to its parent)")
    return MODEL_DIR


@pytest.fixture(scope="session")
def shared_images_dir() -> Path:
    images = SHARED / "images"
    if not images.is_dir():
        pytest.skip(f"needs the shared photos at {images} (set SHELF_NODE_SHARED to its parent)")
    return images
