"""The vision factor with per-label frame counts: a flicker is no information, a label seen alone counts."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from edge.fusion.factors import seen_labels, vision_log_factor
from edge.fusion.settings import FusionSettings
from edge.model import PlateEvidence
from tests.fusion.helpers import one, stage

FRUIT = frozenset({"orange", "apple", "carrot"})
ORANGE, APPLE = (frozenset({"orange"}),), (frozenset({"apple"}),)
ON = replace(FusionSettings(), vision_flicker_share=0.3)
OFF = replace(FusionSettings(), vision_flicker_share=0.0)


def plate(labels: dict[str, tuple[float, int]], frames: int = 30, name: str = "p1") -> dict[str, PlateEvidence]:
    """label -> (best score, frames it was seen in) on one plate."""
    return {name: PlateEvidence(name, {label: (best, best * 0.9) for label, (best, _) in labels.items()}, frames,
                                True, None, (), {label: n for label, (_, n) in labels.items()})}


def factor_ratio(seen: dict[str, float], settings: FusionSettings) -> float:
    """log factor of the orange hypothesis minus the apple one's."""
    return vision_log_factor(ORANGE, seen, settings) - vision_log_factor(APPLE, seen, settings)


def test_a_flicker_of_the_twin_label_settles_toward_the_dominant_one() -> None:
    evidence = plate({"orange": (0.62, 20), "apple": (0.71, 2)})
    flickered = seen_labels(evidence, ("p1",), FRUIT, 0.5, ON.vision_flicker_share)
    assert flickered == {"orange": 0.62}  # apple in 2 of 20 orange frames is dropped, whatever its score
    ratio = factor_ratio(flickered, ON)
    assert ratio == pytest.approx(math.log(ON.vision_hit / (ON.vision_confusion * (1 - ON.vision_hit))))
    assert ratio > math.log(ON.twin_ratio)  # vision splits them: not a twin any more
    # without the rule both labels count once each: orange and apple tie
    counted_once = seen_labels(evidence, ("p1",), FRUIT, 0.5, OFF.vision_flicker_share)
    assert counted_once.keys() == {"orange", "apple"} and factor_ratio(counted_once, OFF) == pytest.approx(0.0)


def test_a_label_seen_alone_counts_however_few_frames_saw_it() -> None:
    alone = seen_labels(plate({"apple": (0.55, 1)}), ("p1",), FRUIT, 0.5, ON.vision_flicker_share)
    assert alone == {"apple": 0.55}
    assert factor_ratio(alone, ON) < -math.log(ON.twin_ratio)
    assert seen_labels(plate({}), ("p1",), FRUIT, 0.5, ON.vision_flicker_share) == {}
    assert vision_log_factor(ORANGE, {}, ON) == vision_log_factor(APPLE, {}, ON) == 0.0  # no detection: no information


def test_labels_seen_in_comparable_shares_both_count() -> None:
    both = seen_labels(plate({"orange": (0.6, 10), "apple": (0.6, 4)}), ("p1",), FRUIT, 0.5, ON.vision_flicker_share)
    assert both.keys() == {"orange", "apple"}  # 4 >= 0.3 x 10: a real ambiguity, left to the weight


def test_counts_are_the_most_over_the_plates_and_uncounted_evidence_keeps_every_label() -> None:
    evidence = {**plate({"orange": (0.6, 3)}, name="p1"), **plate({"orange": (0.6, 20), "apple": (0.8, 5)}, name="p2")}
    assert seen_labels(evidence, ("p1", "p2"), FRUIT, 0.5, 0.3) == {"orange": 0.6}  # 5 < 0.3 x 20
    assert seen_labels(evidence, ("p1",), FRUIT, 0.5, 0.3) == {"orange": 0.6}
    uncounted = {"p1": PlateEvidence("p1", {"orange": (0.6, 0.5), "apple": (0.7, 0.6)}, 30, True)}
    assert seen_labels(uncounted, ("p1",), FRUIT, 0.5, 0.3).keys() == {"orange", "apple"}
    below = plate({"orange": (0.45, 20), "apple": (0.7, 2)})  # orange below min_score does not dominate
    assert seen_labels(below, ("p1",), FRUIT, 0.5, 0.3) == {"apple": 0.7}


def test_a_twin_pick_with_a_flicker_is_settled_by_vision_and_without_the_rule_stays_a_twin() -> None:
    evidence = plate({"carrot": (0.7, 18), "apple": (0.85, 2)}, name="p2")
    settled = one(stage(ON), {"p2": -1031.0}, evidence)
    assert [(line.sku, line.count) for line in settled.lines] == [("CARROT-1KG", 1)]
    # neither a twin nor vision_disagrees: the strong apple flicker is dropped for review too
    assert "twin" not in settled.review_reasons and "vision_disagrees" not in settled.review_reasons
    assert not settled.review_required
    tied = one(stage(OFF), {"p2": -1031.0}, evidence)
    assert "twin" in tied.review_reasons


def test_the_flicker_share_is_a_fusion_config_key() -> None:
    from edge.config.fusion import FusionSection
    from edge.fusion.settings import settings_from_config

    assert settings_from_config(FusionSection()).vision_flicker_share == FusionSettings().vision_flicker_share
    assert settings_from_config(FusionSection(vision_flicker_share=0.0)).vision_flicker_share == 0.0
    with pytest.raises(ValueError, match="vision_flicker_share"):
        FusionSection(vision_flicker_share=1.5)
