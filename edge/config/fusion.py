"""[fusion]: item events from weight events, camera evidence and the planogram. (Owner: fusion.)

See docs/fusion.md for the model; the defaults were chosen on the simulator's tuning seeds.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from edge.config.base import Section, problem_at


class FusionSection(Section):
    planogram: Path | None = Field(
        default=None,
        description=("Planogram file (docs/planogram.md) for nodes without a hub and for replay; the hub's "
                     "retained planogram replaces it when one arrives."),
    )
    auto_accept: float = Field(
        default=0.96, gt=0.5, le=1,
        description="Calibrated confidence an item event needs to skip review (chosen on the risk-coverage curve).",
    )
    publish_weight_events: bool = Field(
        default=True, description="Publish the weight events too (item events link to them either way).",
    )
    vision_hit: float = Field(default=0.70, gt=0, lt=1, description="Chance that a SKU's label is seen when it moved "
                              "and the camera saw something.")
    vision_confusion: float = Field(default=0.016, gt=0, lt=1,
                                    description="Chance that another SKU's label is seen instead.")
    vision_background: float = Field(default=0.038, gt=0, lt=1, description="Chance that a label is seen when the "
                                     "item has no label the camera knows.")
    vision_temper: float = Field(default=1.0, gt=0, le=1, description="Exponent on the vision factor "
                                 "(frames of one event are not independent).")
    vision_flicker_share: float = Field(default=0.4, ge=0, lt=1, description="A catalogue label seen in fewer "
                                        "than this share of the frames of the most-seen one is a flicker and "
                                        "ignored (0 = every seen label counts).")
    neighbour_window_s: float = Field(default=1.5, ge=0, le=10, description="Neighbouring plates' events "
                                      "settling this close may be one item across plates (an ill-fitting event "
                                      "waits this long for its neighbour).")
    overlap_window_s: float = Field(default=0.3, ge=0, le=10, description="Another change on the same plate this "
                                    "soon before an event makes it `overlap` (review).")
    misplaced_prior: float = Field(default=0.04, ge=0, lt=0.5, description="Prior share of put-backs of a SKU "
                                   "that does not live on the plate.")

    @model_validator(mode="after")
    def _confusion_below_hit(self) -> FusionSection:
        if self.vision_confusion >= self.vision_hit:
            raise problem_at("vision_confusion", f"must be below vision_hit ({self.vision_hit:g}), or a seen label "
                             "would count against the SKU that carries it", self.vision_confusion)
        return self
