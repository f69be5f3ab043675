"""Candidate explanations of one plate's change (or one change spread over neighbouring plates).

Bounded: one SKU of the plate x counts 1..max_count; two SKUs of a mixed plate x 1..pair_max_count each;
for put-backs, foreign catalogue SKUs (misplaced) x 1..2, pre-filtered by weight with numpy so a large
catalogue costs little; and "none fits". Each candidate carries its signed mean grams, the variance its
units add, and its log prior from the planogram and the live shelf state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState

MISPLACED_MAX_COUNT = 2
PREFILTER_SIGMAS = 12.0  # candidates further than this from the grams cannot matter


@dataclass(frozen=True, slots=True)
class Candidate:
    lines: tuple[tuple[int, int], ...]  # (sku index, count), sorted
    mean_g: float                       # signed: negative for a pick
    unit_var: float
    log_prior: float
    misplaced: bool = False
    unknown: bool = False


def plate_candidates(state: ShelfState, plates: tuple[str, ...], delta_g: float, sigma_g: float,
                     settings: FusionSettings, now: float, restock: bool) -> list[Candidate]:
    """Every hypothesis for a change of `delta_g` on `plates` (one plate, or several carrying one item)."""
    sign = -1.0 if delta_g < 0 else 1.0
    unit_var = state.unit_var()
    own = _own_weights(state, plates, sign, settings, now, restock)
    candidates: list[Candidate] = []
    max_count = settings.max_restock_count if restock else settings.max_count
    counts = settings.count_weights(max_count)
    misplaced_share = 0.0 if restock else (settings.foreign_pick_prior if sign < 0 else settings.misplaced_prior)
    own_share = 1.0 - misplaced_share - settings.pair_prior * (len(own) > 1)
    total_own = sum(own.values())
    for k, weight in own.items():
        if weight <= 0 or total_own <= 0:
            continue
        for n in range(1, min(max_count, _pick_limit(state, plates, k, sign)) + 1):
            candidates.append(Candidate(((k, n),), sign * n * state.unit_mean[k], n * unit_var[k],
                                        math.log(own_share * weight / total_own * counts[n - 1])))
    if len(own) > 1 and total_own > 0:
        candidates.extend(_pairs(state, plates, own, total_own, sign, unit_var, settings, delta_g, sigma_g))
    if misplaced_share > 0:
        candidates.extend(_misplaced(state, plates, delta_g, sigma_g, unit_var, misplaced_share, settings, now))
    candidates.append(Candidate((), 0.0, 0.0, math.log(settings.unknown_prior), unknown=True))
    return candidates


def _own_weights(state: ShelfState, plates: tuple[str, ...], sign: float, settings: FusionSettings,
                 now: float, restock: bool = False) -> dict[int, float]:
    """Relative prior of the SKUs living on `plates`: picks follow stock; put-backs favour recent picks. A
    restock (maintenance mode) brings the plate's own SKUs: a visitor a shopper left there is not restocked."""
    weights: dict[int, float] = {}
    recent = state.recent_counts(now, settings.recent_pick_window_s) if sign > 0 else {}
    for plate in plates:
        stocked = state.pick_weights(plate)
        visitors_only = all(state.is_visitor(plate, k) for k in stocked)
        for k, w in stocked.items():
            if restock and state.is_visitor(plate, k) and not visitors_only:
                continue
            if sign < 0:  # a visitor (left by a put-back) has no unseen stock behind it
                w = w + (0.0 if state.is_visitor(plate, k) else settings.stock_pseudo_count)
            else:
                w = 1.0 + settings.recent_pick_boost * recent.get(k, 0)
            weights[k] = weights.get(k, 0.0) + w
    return weights


def _pick_limit(state: ShelfState, plates: tuple[str, ...], k: int, sign: float) -> int:
    """Units one pick can take of SKU `k`: a visitor (left by put-backs) only the units it came with
    (1 for a look-alike of unknown units); a SKU living there is not capped (stock counts drift)."""
    if sign > 0 or not all(state.is_visitor(plate, k) for plate in plates if k in state.contents.get(plate, [])):
        return 10 ** 6
    units = [state.stock.get(plate, {}).get(k) for plate in plates if state.is_visitor(plate, k)]
    return max(1, sum(u or 1 for u in units))


def _pairs(state: ShelfState, plates: tuple[str, ...], own: dict[int, float], total_own: float, sign: float,
           unit_var: np.ndarray, settings: FusionSettings, delta_g: float, sigma_g: float) -> list[Candidate]:
    """Two SKUs of the plate at once, only those within reach of the grams (as for misplaced ones);
    every pair and count at once with numpy."""
    skus = np.array(sorted(own), dtype=int)
    first, second = np.triu_indices(len(skus), k=1)
    k1, k2 = skus[first], skus[second]
    counts = settings.count_weights(settings.pair_max_count)
    share = settings.pair_prior / len(k1)
    n = np.arange(1, settings.pair_max_count + 1, dtype=float)
    rows, cols = n[None, :, None], n[None, None, :]  # pair x count of the first x count of the second
    means = rows * state.unit_mean[k1][:, None, None] + cols * state.unit_mean[k2][:, None, None]
    var = rows * unit_var[k1][:, None, None] + cols * unit_var[k2][:, None, None]
    sd = np.sqrt(sigma_g ** 2 + settings.model_floor_g ** 2 + var)
    out: list[Candidate] = []
    for p, a, b in zip(*np.nonzero(np.abs(abs(delta_g) - means) < PREFILTER_SIGMAS * sd + 2.0), strict=True):
        if max(a + 1 - _pick_limit(state, plates, int(k1[p]), sign),
               b + 1 - _pick_limit(state, plates, int(k2[p]), sign)) > 0:
            continue  # more units of a visitor than it came with
        out.append(Candidate(((int(k1[p]), int(a) + 1), (int(k2[p]), int(b) + 1)), float(sign * means[p, a, b]),
                             float(var[p, a, b]), math.log(share * counts[a] * counts[b])))
    return out


def _misplaced(state: ShelfState, plates: tuple[str, ...], delta_g: float, sigma_g: float, unit_var: np.ndarray,
               share: float, settings: FusionSettings, now: float) -> list[Candidate]:
    """Put-backs of SKUs that do not live on these plates. Only those within reach of the grams are listed,
    with their own prior: the far ones would have a vanishing likelihood, so leaving them out changes no
    posterior measurably and keeps a catalogue of thousands cheap."""
    living = {k for plate in plates for k in state.contents.get(plate, [])}
    outside = np.ones(len(state.skus), dtype=bool)
    outside[list(living)] = False
    foreign = np.flatnonzero(outside)
    if foreign.size == 0:
        return []
    boost = np.ones(len(state.skus))
    for k, picks in state.recent_counts(now, settings.recent_pick_window_s).items():
        boost[k] += settings.recent_pick_boost * picks
    weights = boost[foreign] / boost[foreign].sum()
    counts = settings.count_weights(MISPLACED_MAX_COUNT)
    out: list[Candidate] = []
    for n in range(1, MISPLACED_MAX_COUNT + 1):
        means = n * state.unit_mean[foreign]
        sd = np.sqrt(sigma_g ** 2 + settings.model_floor_g ** 2 + n * unit_var[foreign])
        near = np.abs(abs(delta_g) - means) < PREFILTER_SIGMAS * sd + 2.0
        for j in np.flatnonzero(near):
            k = int(foreign[j])
            out.append(Candidate(((k, n),), float(np.sign(delta_g) * means[j]), float(n * unit_var[k]),
                                 math.log(share * weights[j] * counts[n - 1]), misplaced=True))
    return out
