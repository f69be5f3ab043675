"""[gallery]: labelled crops of products the node gathers by itself (docs/gallery.md). (Owner: gallery.)

Crops come from the camera's frames of item events fusion accepted with a calibrated confidence of at least
`min_confidence`, from restock sessions (maintenance mode with a declared SKU) and from the hub's reviewer
answers (`cmd/review_answer`). Never from a flagged event's own guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import Section, problem_at

ExamplesFrom = Literal["plate", "any_plate"]  # where a look-alike plate's splitter takes its examples


class GallerySection(Section):
    """Labelled crops gathered without a human: bounds, threshold, crop size."""

    enabled: bool = Field(default=True, description="Gather crops (only on a node with a [camera]).")
    path: Path | None = Field(default=None, description="SQLite file; unset: <node.state_dir>/gallery.sqlite3.")
    min_confidence: float = Field(
        default=0.999, gt=0.5, le=1,
        description="Calibrated confidence an accepted item event needs before its crop is kept as a label.",
    )
    max_per_sku: int = Field(default=200, ge=1, le=100_000, description="Crops kept per SKU; the oldest go first.")
    max_bytes_per_sku: int = Field(default=4_000_000, ge=10_000, description="Bytes of crops kept per SKU; the "
                                   "oldest go first.")
    max_total_bytes: int = Field(default=200_000_000, ge=10_000, description="Bytes of all crops; past it the "
                                 "SKU holding the most bytes loses its oldest first.")
    max_pending: int = Field(default=500, ge=0, le=100_000, description="Crops of flagged item events kept "
                             "(unlabelled) for a reviewer's answer; the oldest go first.")
    max_items: int = Field(default=20_000, ge=10, le=1_000_000, description="Item events remembered so that "
                           "cmd/review_answer can name them; an answer to an older one is refused.")
    crop_max_side: int = Field(default=224, ge=32, le=1024, description="Longest side of a stored crop (px); "
                               "larger crops are scaled down.")
    crop_margin: float = Field(default=0.1, ge=0, le=1, description="Share of the box's size added on each "
                               "side of the crop.")
    min_crop_px: int = Field(default=16, ge=4, le=512, description="A box smaller than this on either side "
                             "gives no crop.")
    jpeg_quality: int = Field(default=90, ge=10, le=100, description="JPEG quality of stored crops.")
    review_answers: bool = Field(default=True, description="Take the hub's cmd/review_answer (labels its "
                                 "crops, records the outcome). It changes no weighing state, so "
                                 "[mqtt] allow_state_commands does not guard it.")
    queue_size: int = Field(default=64, ge=1, le=10_000, description="Item events waiting for the gallery "
                            "worker; past it new crops are skipped (counted), the weighing never waits.")
    appearance: bool = Field(default=True, description="Split weight twins by their look (same-label ones, and "
                             "label-distinct ones whose label the camera misses): a per-plate splitter learned "
                             "from these crops votes in fusion (needs a [detector]).")
    min_accuracy: float = Field(default=0.98, gt=0.5, le=1, description="Leave-one-out accuracy (Laplace "
                                "smoothed) a plate's splitter needs on its own examples before it votes.")
    min_examples: int = Field(default=10, ge=2, le=10_000, description="Examples per look-alike SKU a "
                              "plate's splitter holds (see examples_from) before it checks itself at all.")
    examples_from: ExamplesFrom = Field(default="plate", description="Where a look-alike plate's splitter takes "
                                        "its examples: `plate`, the crops taken on that plate; `any_plate`, its SKUs' "
                                        "crops taken on any plate of this node (their other facings, labelled there by "
                                        "accepted picks, restocks or reviewers). The daemon, `gallery check` and "
                                        "replay alike.")
    refresh_examples: int = Field(default=10, ge=1, le=100_000, description="The splitter is rebuilt (on its "
                                  "own thread) after this many new examples or review answers.")
    refresh_s: float = Field(default=300.0, ge=1, le=86_400, description="The splitter is rebuilt at latest "
                             "this long after the gallery changed, however few the new examples.")

    @model_validator(mode="after")
    def _sku_fits_total(self) -> GallerySection:
        if self.max_bytes_per_sku > self.max_total_bytes:
            raise problem_at("max_bytes_per_sku", f"must be at most max_total_bytes ({self.max_total_bytes})",
                             self.max_bytes_per_sku)
        return self
