"""Scoring a segment (same-sign changes on one or more plates, from one or a few weight events).

Two readings compete on the same grams, so the posterior says which explains them better:
- per plate: each plate's change is its own item set (one hand per plate);
- across: the plates' summed change is one item set lying across them. Its density over the per-plate
  split is uniform (a straddling item can rest any share on each plate), (m-1)!/|D|^(m-1) for m plates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from edge.fusion.factors import log_student_t, seen_labels, vision_log_factor
from edge.fusion.hypotheses import Candidate, plate_candidates
from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState
from edge.model import PlateChange, PlateEvidence

TOP_PER_PLATE = 6  # per-plate candidates kept when plates are combined (bounds the product)
PRUNE_LOG = 20.0   # hypotheses this far (in log score) below the best are dropped before normalising


@dataclass(frozen=True, slots=True)
class Part:
    plates: tuple[str, ...]
    candidate: Candidate
    log_weight: float   # weight log likelihood (with the split density for an across part)
    log_vision: float
    z: float            # residual in sd units
    residual_g: float


@dataclass(frozen=True, slots=True)
class Joint:
    parts: tuple[Part, ...]
    across: bool

    @property
    def log_prior(self) -> float:
        return sum(p.candidate.log_prior for p in self.parts)

    @property
    def log_weight(self) -> float:
        return sum(p.log_weight for p in self.parts)

    @property
    def log_vision(self) -> float:
        return sum(p.log_vision for p in self.parts)

    @property
    def unknown(self) -> bool:
        return any(p.candidate.unknown for p in self.parts)

    @property
    def misplaced(self) -> bool:
        return any(p.candidate.misplaced for p in self.parts)

    def key(self) -> tuple[object, ...]:
        """Identity independent of the order hypotheses were generated in (ties break on it)."""
        return tuple(sorted((p.plates, p.candidate.lines, p.candidate.unknown) for p in self.parts))

    def sku_lines(self) -> frozenset[tuple[int, int]]:
        return frozenset(line for p in self.parts for line in p.candidate.lines)


@dataclass(frozen=True, slots=True)
class Posterior:
    joints: tuple[Joint, ...]     # best first
    probabilities: np.ndarray     # same order, sums to 1
    vision_used: bool
    appearance: dict[str, object] | None = None  # the appearance splitter's vote, when it voted (appearance_factor)


def score_segment(state: ShelfState, changes: tuple[PlateChange, ...], evidence: Mapping[str, PlateEvidence] | None,
                  use_vision: bool, settings: FusionSettings, now: float, restock: bool,
                  across_allowed: bool = True) -> Posterior:
    vocabulary = state.vocabulary
    per_plate: list[list[Part]] = []
    vision_used = False
    for change in changes:
        seen = seen_labels(evidence, (change.plate,), vocabulary, settings.vision_min_score,
                           settings.vision_flicker_share) if use_vision else {}
        vision_used |= bool(seen)
        per_plate.append(_score_parts(state, (change.plate,), change.delta_g, change.sigma_g, seen, settings, now,
                                      restock, 0.0))
    joints: list[Joint] = []
    if len(changes) == 1:
        joints = [Joint((part,), False) for part in per_plate[0]]
    else:
        split_log = math.log(1 - settings.across_prior) if across_allowed else 0.0
        kept = [sorted(parts, key=_part_rank)[:TOP_PER_PLATE] for parts in per_plate]
        for combo in itertools.product(*kept):
            first = combo[0]
            shifted = Part(first.plates, _with_prior(first.candidate, split_log), first.log_weight,
                           first.log_vision, first.z, first.residual_g)
            joints.append(Joint((shifted, *combo[1:]), False))
        if across_allowed:
            joints.extend(_across(state, changes, evidence, use_vision, vocabulary, settings, now, restock))
    scores = np.array([j.log_prior + j.log_weight + j.log_vision for j in joints])
    order = sorted(range(len(joints)), key=lambda i: (-scores[i], joints[i].key()))
    scores = scores[order]
    weights = np.exp(scores - scores.max())
    return Posterior(tuple(joints[i] for i in order), weights / weights.sum(), vision_used)


def _across(state: ShelfState, changes: tuple[PlateChange, ...], evidence: Mapping[str, PlateEvidence] | None,
            use_vision: bool, vocabulary: frozenset[str], settings: FusionSettings, now: float,
            restock: bool) -> list[Joint]:
    plates = tuple(c.plate for c in changes)
    total = sum(c.delta_g for c in changes)
    sigma = math.sqrt(sum(c.sigma_g ** 2 for c in changes))
    m = len(changes)
    split = math.lgamma(m) - (m - 1) * math.log(max(abs(total), 1.0)) + math.log(settings.across_prior)
    seen = seen_labels(evidence, plates, vocabulary, settings.vision_min_score,
                       settings.vision_flicker_share) if use_vision else {}
    parts = _score_parts(state, plates, total, sigma, seen, settings, now, restock, split)
    return [Joint((part,), True) for part in parts if not part.candidate.unknown]


def _score_parts(state: ShelfState, plates: tuple[str, ...], delta_g: float, sigma_g: float,
                 seen: Mapping[str, float], settings: FusionSettings, now: float, restock: bool,
                 extra_log_weight: float) -> list[Part]:
    candidates = plate_candidates(state, plates, delta_g, sigma_g, settings, now, restock)
    means = np.array([c.mean_g for c in candidates])
    scale = np.sqrt(sigma_g ** 2 + settings.model_floor_g ** 2 + np.array([c.unit_var for c in candidates]))
    residual = delta_g - means
    norm_scale = math.sqrt(sigma_g ** 2 + settings.model_floor_g ** 2)
    log_weight = log_student_t(residual, scale, settings.student_nu, norm_scale) + extra_log_weight
    unknown = np.array([c.unknown for c in candidates])
    log_weight[unknown] = -math.log(settings.unknown_range_g)
    vision_cache: dict[tuple[frozenset[str], ...] | None, float] = {}
    vision = np.empty(len(candidates))
    for i, candidate in enumerate(candidates):
        labels = None if candidate.unknown else tuple(state.labels[k] for k, _ in candidate.lines)
        if labels not in vision_cache:
            vision_cache[labels] = vision_log_factor(labels, seen, settings)
        vision[i] = vision_cache[labels]
    total = log_weight + vision + np.array([c.log_prior for c in candidates])
    keep = np.flatnonzero(total >= total.max() - PRUNE_LOG)  # the rest weigh < e-20 of the best: nothing
    return [Part(plates, candidates[i], float(log_weight[i]), float(vision[i]),
                 float(abs(residual[i]) / scale[i]), float(residual[i])) for i in keep]


def _part_rank(part: Part) -> tuple[float, object]:
    return (-(part.candidate.log_prior + part.log_weight + part.log_vision),
            (part.candidate.lines, part.candidate.unknown))


def _with_prior(candidate: Candidate, extra: float) -> Candidate:
    return Candidate(candidate.lines, candidate.mean_g, candidate.unit_var, candidate.log_prior + extra,
                     candidate.misplaced, candidate.unknown)
