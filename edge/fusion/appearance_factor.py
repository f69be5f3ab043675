"""The appearance factor: a per-plate splitter's vote between look-alike SKUs, as a tempered vision factor.

The labels factor (edge.fusion.factors) can never split two SKUs with the same detector labels. When the
camera evidence carries a descriptor of the handled item's crop (`PlateEvidence.appearance`) and a splitter
is set (`FusionStage.appearance`, any object with the `AppearanceVoter` method; edge.vision.appearance_splitter
provides one), fusion asks it, after scoring, which of the SKUs the weight left plausible the crop shows.

The splitter abstains (None) unless its own leave-one-out check on that plate's gallery passed; then the
posterior is left as it was and a same-label twin keeps its `twin` review reason. When it votes for SKU v
among the K candidates it has examples of (`vote.candidates`), with reliability a (its leave-one-out
accuracy on votes of that margin, capped at `max_accuracy`), the vote is read as an observation with
P(vote v | truth v) = a and P(vote v | truth s) = (1 - a) / (K - 1): every hypothesis whose SKUs are all
voted candidates other than v gets `temper * log((1 - a) / ((K - 1) a))` added to its vision log factor;
hypotheses containing v, SKUs the splitter did not vote on (it cannot speak against them) and "none
fits" get 0. **Open-set guard**: the vote is not applied at all when a hypothesis the weight left plausible
(p >= same_label_floor before the vote) lacks v and has a SKU the splitter could not compare (no examples
anywhere, e.g. a foreign SKU put back unseen): the crop may show that SKU, and the vote would lift v over an
answer it cannot rule out. Pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from edge.fusion.scoring import Joint, Part, Posterior
from edge.fusion.settings import FusionSettings
from edge.fusion.shelf_state import ShelfState
from edge.model import PlateEvidence


class AppearanceVote(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def candidates(self) -> tuple[str, ...]: ...  # what it voted between (a subset of those it was asked)

    @property
    def accuracy(self) -> float: ...

    @property
    def margin(self) -> float: ...


class AppearanceVoter(Protocol):
    def vote(self, plate: str, descriptor: np.ndarray, candidates: Sequence[str]) -> AppearanceVote | None: ...


@dataclass(frozen=True, slots=True)
class AppearanceSettings:
    temper: float = 1.0          # exponent on the vote's likelihood ratio (as vision_temper for labels)
    max_accuracy: float = 0.995  # the vote is never read as surer than this, whatever its gallery says


def apply_appearance(posterior: Posterior, state: ShelfState, evidence: Mapping[str, PlateEvidence] | None,
                     voter: AppearanceVoter, settings: FusionSettings,
                     appearance: AppearanceSettings = AppearanceSettings()) -> Posterior:
    """The posterior with the splitter's vote folded in, or unchanged when it has nothing to say."""
    top = posterior.joints[0]
    if evidence is None or top.unknown or len(top.parts) != 1 or len(top.parts[0].plates) != 1:
        return posterior
    plate = top.parts[0].plates[0]
    plate_evidence = evidence.get(plate)
    if plate_evidence is None or not plate_evidence.appearance:
        return posterior
    candidates = _plausible(posterior, state, plate, settings.same_label_floor)
    if len(candidates) < 2:
        return posterior
    vote = voter.vote(plate, np.asarray(plate_evidence.appearance, np.float32), candidates)
    voted = tuple(c for c in vote.candidates if c in candidates) if vote is not None else ()
    if vote is None or vote.sku not in voted or len(voted) < 2:
        return posterior
    if _open_rival(posterior, state, plate, vote.sku, frozenset(voted), settings.same_label_floor):
        return posterior  # the open-set guard: an answer it could not compare stays as likely as the winner
    accuracy = min(max(vote.accuracy, 1.0 / len(voted)), appearance.max_accuracy)
    penalty = appearance.temper * math.log((1.0 - accuracy) / ((len(voted) - 1) * accuracy))
    against = frozenset(voted) - {vote.sku}
    joints = [_with_vision(j, penalty) if _only(j, state, against) else j for j in posterior.joints]
    scores = np.array([j.log_prior + j.log_weight + j.log_vision for j in joints])
    order = sorted(range(len(joints)), key=lambda i: (-scores[i], joints[i].key()))
    weights = np.exp(scores[order] - scores[order].max())
    summary = {"plate": plate, "sku": vote.sku, "candidates": list(voted), "accuracy": round(accuracy, 4),
               "margin": round(float(vote.margin), 4)}
    return replace(posterior, joints=tuple(joints[i] for i in order), probabilities=weights / weights.sum(),
                   vision_used=True, appearance=summary)


def _plausible(posterior: Posterior, state: ShelfState, plate: str, floor: float) -> tuple[str, ...]:
    """SKUs of the hypotheses on `plate` the weight (and prior, labels) left at p >= floor."""
    found: set[str] = set()
    for joint, p in zip(posterior.joints, posterior.probabilities, strict=True):
        if p < floor:
            break  # best first
        if joint.unknown or any(part.plates != (plate,) for part in joint.parts):
            continue
        found.update(state.skus[k] for k, _ in joint.sku_lines())
    return tuple(sorted(found))


def _open_rival(posterior: Posterior, state: ShelfState, plate: str, winner: str, voted: frozenset[str],
                floor: float) -> bool:
    """A hypothesis on `plate` the weight left at p >= floor without the winner and with a SKU the vote did not
    compare (no examples anywhere): the crop may show that SKU, and the vote, by removing the compared
    rivals only, would lift the winner over an answer it cannot rule out."""
    for joint, p in zip(posterior.joints, posterior.probabilities, strict=True):
        if p < floor:
            break  # best first
        if joint.unknown or any(part.plates != (plate,) for part in joint.parts):
            continue
        skus = {state.skus[k] for k, _ in joint.sku_lines()}
        if winner not in skus and skus - voted:
            return True
    return False


def _only(joint: Joint, state: ShelfState, against: frozenset[str]) -> bool:
    if joint.unknown:
        return False
    skus = {state.skus[k] for k, _ in joint.sku_lines()}
    return bool(skus) and skus <= against


def _with_vision(joint: Joint, extra: float) -> Joint:
    first = joint.parts[0]
    shifted = Part(first.plates, first.candidate, first.log_weight, first.log_vision + extra, first.z,
                   first.residual_g)
    return Joint((shifted, *joint.parts[1:]), joint.across)
