"""The two likelihood factors: weight (heavy-tailed) and vision (tempered, from detector labels)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from edge.fusion.settings import FusionSettings
from edge.model import PlateEvidence


def log_student_t(residual: np.ndarray, scale: np.ndarray, nu: float, norm_scale: float) -> np.ndarray:
    """log Student-t weight factor with `nu` degrees of freedom: a Gaussian core whose tails forgive the odd
    bad sample (creep, a finger on the plate) without letting a 10-sigma residual look plausible.

    The shape uses each hypothesis's own scale; the normaliser uses `norm_scale`, one value for every
    hypothesis of the change. A per-hypothesis normaliser would favour the SKU with the narrower unit
    spread when both fit, an advantage that fades as the event's sigma grows, so a noisier weight could
    make fusion surer of the wider one (docs/fusion.md)."""
    const = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    z2 = (residual / scale) ** 2
    return const - math.log(norm_scale) - (nu + 1) / 2 * np.log1p(z2 / nu)


def seen_labels(evidence: Mapping[str, PlateEvidence] | None, plates: Iterable[str], vocabulary: frozenset[str],
                min_score: float, flicker_share: float = 0.0) -> dict[str, float]:
    """label -> best score over `plates`, only labels some catalogue SKU has, at or above `min_score`.

    A flicker is dropped: a label seen in fewer than `flicker_share` x the frames of the most-seen such
    label (frame counts from `PlateEvidence.label_frames`, the most over `plates`). A detector that calls
    an orange "apple" in one frame of twenty says nothing about apples. Labels without a count (evidence
    that does not count frames) are kept and do not set the dominant count; a label seen alone is always
    kept, so no detection stays no information and one detection stays one."""
    seen: dict[str, float] = {}
    frames: dict[str, int] = {}
    if not evidence:
        return seen
    for plate in plates:
        plate_evidence = evidence.get(plate)
        if plate_evidence is None:
            continue
        for label, (best, _mean) in plate_evidence.labels.items():
            if label in vocabulary and best >= min_score:
                seen[label] = max(seen.get(label, 0.0), best)
                count = plate_evidence.label_frames.get(label)
                if count is not None:
                    frames[label] = max(frames.get(label, 0), count)
    if flicker_share > 0.0 and len(frames) > 1:
        floor = flicker_share * max(frames.values())
        seen = {label: best for label, best in seen.items() if frames.get(label, floor) >= floor}
    return seen


def vision_log_factor(label_sets: tuple[frozenset[str], ...] | None, seen: Mapping[str, float],
                      settings: FusionSettings) -> float:
    """Tempered log P(seen labels | the hypothesis's SKUs); `label_sets` has one set per SKU of the
    hypothesis (None = the unknown hypothesis).

    No detection at all is no information (0 for every hypothesis). Otherwise each seen label counts once
    (scores above the threshold barely separate true from false detections of this detector; flickers
    were dropped by `seen_labels`): a hit if
    one of the SKUs carries it, background if a SKU without labels could explain a stray detection, else a
    confusion; a SKU with labels none of which was seen counts as a miss.
    """
    if not seen:
        return 0.0
    sets = label_sets or ()
    carried = frozenset().union(*sets) if sets else frozenset()
    unlabelled = label_sets is None or any(not labels for labels in sets)
    total = 0.0
    for label in seen:
        if label in carried:
            rate = settings.vision_hit
        elif unlabelled:
            rate = settings.vision_background
        else:
            rate = settings.vision_confusion
        total += math.log(rate)
    for labels in sets:
        if labels and not labels & seen.keys():
            total += math.log(1.0 - settings.vision_hit)
    return settings.vision_temper * total
