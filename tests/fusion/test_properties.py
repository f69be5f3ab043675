"""Properties of the posterior: it is a distribution, it ignores the order hypotheses come in, and a less
certain weight never makes fusion surer."""

from __future__ import annotations

import copy
import math
import random

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edge.fusion.scoring import score_segment
from edge.fusion.settings import FusionSettings
from edge.model import ItemLine, PlateChange
from tests.fusion.helpers import DOCUMENT, PLATES, one, seen, stage

PLATE = st.sampled_from(["p1", "p2", "p3", "p4"])
GRAMS = st.floats(min_value=-2500, max_value=2500).filter(lambda g: abs(g) > 5)
LABEL = st.sampled_from([None, "bottle", "apple", "carrot", "carton"])


@settings(max_examples=60, deadline=None)
@given(PLATE, GRAMS, st.floats(min_value=0.1, max_value=20), LABEL)
def test_probabilities_sum_to_one(plate: str, grams: float, sigma: float, label: str | None) -> None:
    fusion = stage()
    evidence = seen(plate, **({label: 0.7} if label else {}))
    posterior = score_segment(fusion._state, (PlateChange(plate, grams, sigma),), evidence, True,
                              FusionSettings(), 0.0, False)
    assert abs(float(posterior.probabilities.sum()) - 1.0) < 1e-9
    assert (posterior.probabilities >= 0).all()
    item = one(stage(), {plate: grams}, evidence)
    assert item.confidence + sum(a.probability for a in item.alternatives) <= 1.0 + 1e-5  # rounded to 1e-6 each


@settings(max_examples=40, deadline=None)
@given(PLATE, GRAMS, LABEL, st.integers(min_value=0, max_value=10_000))
def test_result_does_not_depend_on_hypothesis_order(plate: str, grams: float, label: str | None, seed: int) -> None:
    shuffled = copy.deepcopy(DOCUMENT)
    rng = random.Random(seed)
    rng.shuffle(shuffled["catalogue"])
    for slots in shuffled["plates"].values():
        rng.shuffle(slots)
    evidence = seen(plate, **({label: 0.7} if label else {}))
    a = one(stage(), {plate: grams}, evidence)
    b = one(stage(document=shuffled), {plate: grams}, evidence)
    assert (a.action, a.lines, a.review_required, a.review_reasons) == (b.action, b.lines, b.review_required,
                                                                        b.review_reasons)
    assert abs(a.confidence - b.confidence) < 1e-9


# grams of real answers (the sigma property is about how sure fusion is of what the grams say)
TRUE_CHANGES = st.sampled_from([("p1", -1040.0), ("p1", -520.0), ("p2", -1031.0), ("p3", -32.0), ("p3", -96.0),
                                ("p4", -1000.0), ("p3", 150.0), ("p2", 1028.0), ("p4", -2000.0)])
CATALOGUE = {entry["sku"]: entry for entry in DOCUMENT["catalogue"]}


def fit_z(lines: tuple[ItemLine, ...], grams: float, sigma: float) -> float:
    """How far the grams are from a hypothesis, in its own sd (inf for "unknown")."""
    if not lines:
        return math.inf
    mean = sum(line.count * CATALOGUE[line.sku]["unit_weight_g"] for line in lines)
    var = sum(line.count * CATALOGUE[line.sku]["unit_sigma_g"] ** 2 for line in lines)
    return abs(abs(grams) - mean) / math.sqrt(sigma ** 2 + FusionSettings().model_floor_g ** 2 + var)


@settings(max_examples=150, deadline=None)
@given(TRUE_CHANGES, st.floats(min_value=-3, max_value=3), st.floats(min_value=0.1, max_value=10),
       st.floats(min_value=1.0, max_value=5.0), LABEL)
def test_a_larger_weight_sigma_never_raises_confidence(change: tuple[str, float], noise: float, sigma: float,
                                                       factor: float, label: str | None) -> None:
    """When the grams say the answer (it fits within 1 sd, and better than every alternative), a noisier
    weight never makes fusion surer of it. Outside that regime a noisier weight argues less against an
    answer the grams disfavour, which is Bayes, not a bug (docs/fusion.md, "Properties")."""
    plate, grams = change
    grams += noise
    evidence = seen(plate, **({label: 0.7} if label else {}))
    raw = FusionSettings(calibration=())  # the calibration map is monotone; the property is the posterior's
    sure = one(stage(raw), {plate: grams}, evidence, sigma=sigma)
    top_z = fit_z(sure.lines, grams, sigma)
    assume(top_z <= 1.0 and all(top_z <= fit_z(alt.lines, grams, sigma) for alt in sure.alternatives))
    less_sure = one(stage(raw), {plate: grams}, evidence, sigma=sigma * factor)
    listed = {less_sure.lines: less_sure.confidence} | {alt.lines: alt.probability for alt in less_sure.alternatives}
    floor = min(listed.values())  # an answer not listed is less likely than every listed one
    assert listed.get(sure.lines, floor) <= sure.confidence + 1e-9


def test_plates_without_changes_are_untouched() -> None:
    fusion = stage()
    item = one(fusion, {"p3": -32.0})
    assert set(item.stock) == {"p3"} and fusion.status().stock["p4"] == {"JUICE": 8}
    assert PLATES[-1] == "p5"


@settings(max_examples=40, deadline=None)
@given(PLATE, GRAMS, LABEL)
def test_no_alternative_is_more_likely_than_the_answer(plate: str, grams: float, label: str | None) -> None:
    item = one(stage(), {plate: grams}, seen(plate, **({label: 0.7} if label else {})))
    assert all(alt.probability <= item.confidence for alt in item.alternatives)
