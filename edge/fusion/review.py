"""Calibrated confidence and the review decision: which reasons apply and whether a human must look.

Hard reasons send an event to review whatever its confidence. Soft reasons explain a low confidence
and are listed only on events that go to review for it (a misplaced put-back the weight and camera
settle is not a reason to bother anyone).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from edge.fusion.scoring import Joint, Posterior
from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState

HARD_REASONS = ("no_fit", "twin", "unknown_item", "vision_disagrees", "overlap", "faulty_channel",
                "serial_outage", "board_changed", "over_range", "large_put", "stopped_early")
SOFT_REASONS = ("camera_unavailable", "misplaced", "noisy")
REASON_CODES = (*HARD_REASONS, *SOFT_REASONS, "low_confidence")
# stopped_early: reported at a stop before its neighbours calmed or its lean hold ended (docs/weighing.md)
WEIGHT_EVENT_FLAG_REASONS = ("serial_outage", "board_changed", "over_range", "stopped_early")
LARGE_PUT_UNITS = 3  # a shopper rarely puts back 3+ units; outside maintenance it is a restock or two changes


@dataclass(frozen=True, slots=True)
class Review:
    confidence: float
    required: bool
    reasons: tuple[str, ...]


def calibrate(raw: float, points: tuple[tuple[float, float], ...]) -> float:
    """Piecewise-linear map fitted on the tuning seeds (identity when there are no points). Above the last
    knot it stays at that knot's value: the tuning events cannot vouch for more than that."""
    if not points:
        return raw
    xs = np.array([0.0, *(p[0] for p in points), 1.0])
    ys = np.array([0.0, *(p[1] for p in points), points[-1][1]])
    return float(np.interp(raw, xs, ys))


def decide(posterior: Posterior, state: ShelfState, seen: Mapping[str, float], camera_usable: bool,
           event_reasons: Iterable[str], settings: FusionSettings, put: bool = False) -> Review:
    """`put`: a positive change outside maintenance mode (a restock there is expected to be large)."""
    top = posterior.joints[0]
    confidence = calibrate(float(posterior.probabilities[0]), settings.calibration)
    # Without the camera the map (fitted mostly on events with one) is optimistic: a stricter threshold.
    threshold = settings.auto_accept if camera_usable else max(settings.auto_accept,
                                                               settings.auto_accept_without_camera)
    hard: list[str] = [r for r in event_reasons if r in HARD_REASONS]
    soft: list[str] = [r for r in event_reasons if r in SOFT_REASONS]
    if top.unknown:
        hard.append("unknown_item")
        if _best_known_z(posterior) > settings.no_fit_sigmas:
            hard.append("no_fit")
    elif max(p.z for p in top.parts) > settings.no_fit_sigmas:
        hard.append("no_fit")
    if not top.unknown and _same_label_rival(posterior, state, settings):
        hard.append("twin")
    runner, _ = _runner_up(posterior)
    if runner is not None and not top.unknown and "twin" not in hard:
        weight_close = top.log_weight - runner.log_weight < math.log(settings.twin_ratio)
        if weight_close and confidence < threshold \
                and top.log_vision - runner.log_vision < math.log(settings.twin_ratio):  # vision did not split
            soft.append("twin")
    if camera_usable and not top.unknown and _vision_disagrees(state, top, seen, settings):
        hard.append("vision_disagrees")
    if not camera_usable:
        soft.append("camera_unavailable")
    if top.misplaced:
        soft.append("misplaced")
    if put and not top.unknown and sum(n for _, n in top.sku_lines()) >= LARGE_PUT_UNITS:
        hard.append("large_put")
    required = bool(hard) or confidence < threshold
    reasons = list(dict.fromkeys(hard + soft)) if required else []
    if required and not reasons:
        reasons = ["low_confidence"]
    return Review(confidence, required, tuple(reasons))


def _runner_up(posterior: Posterior) -> tuple[Joint | None, float]:
    top = posterior.joints[0]
    for joint, p in zip(posterior.joints[1:], posterior.probabilities[1:], strict=True):
        if not joint.unknown and joint.sku_lines() != top.sku_lines():
            return joint, float(p)
    return None, 0.0


def _same_label_rival(posterior: Posterior, state: ShelfState, settings: FusionSettings) -> bool:
    """Any other answer at p >= same_label_floor that the weight cannot tell from the chosen one and whose
    SKUs carry the same labels: the camera can never split it, whatever the confidence says."""
    top = posterior.joints[0]
    labels = _labels(state, top)
    for joint, p in zip(posterior.joints[1:], posterior.probabilities[1:], strict=True):
        if p < settings.same_label_floor:
            break  # best first: the rest are less likely still
        if joint.unknown or joint.sku_lines() == top.sku_lines():
            continue
        if top.log_weight - joint.log_weight < math.log(settings.twin_ratio) and _labels(state, joint) == labels \
                and top.log_vision - joint.log_vision < math.log(settings.twin_ratio):  # appearance did not split
            return True
    return False


def _best_known_z(posterior: Posterior) -> float:
    zs = [max(p.z for p in j.parts) for j in posterior.joints if not j.unknown]
    return min(zs) if zs else math.inf


def _labels(state: ShelfState, joint: Joint) -> frozenset[frozenset[str]]:
    return frozenset(state.labels[k] for k, _ in joint.sku_lines())


def _vision_disagrees(state: ShelfState, top: Joint, seen: Mapping[str, float], settings: FusionSettings) -> bool:
    carried = frozenset().union(*(state.labels[k] for k, _ in top.sku_lines()))
    if not carried:
        return False
    strong = {label for label, best in seen.items() if best >= settings.vision_disagree_score}
    return bool(strong) and not strong & carried
