"""Benchmark classes of each true interaction, from the planogram and the timeline.

A tag says why an interaction is hard; the fusion benchmark reports one table row per tag.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from edge.sim.catalogue import weight_twins
from edge.sim.scenario import Item, Scenario
from edge.sim.truth import TruthRecord

TAGS = (
    "weight_twin",  # another SKU planned on these plates, or lying there now (for a misplaced put:
    # any catalogue SKU), is within 2 % of this one, or as many units of it weigh alike by the planogram
    # lint's 3-sigma test (water-500 517 g against milk-500 530 g: 2.5 % apart, 3 sigma = 18 g)
    "same_label_twin",  # a weight twin on these plates with the same detector labels: the camera cannot split it
    "count_twin",  # this many units weigh like another count (1..6) of a rival SKU (rivals as for
    # weight_twin), by the planogram lint's 3-sigma test: one 1 L carton against two 0.5 L bottles. A weight
    # twin in the sense; the mix counts weight_twin or count_twin as "weight twins"
    "multi_unit",  # a pick or put of 2 or more units at once
    "misplaced",  # a put of a SKU the planogram does not place on these plates
    "across",  # one item lying on two plates
    "simultaneous",  # another interaction on another plate overlaps in time
    "back_to_back",  # another interaction on the same plate starts within 1.5 s of this one settling
    "camera_down",  # the camera was down during (part of) the interaction
    "mixed_plate",  # the plate holds more than one SKU in the planogram
    "restock",
)
COUNT_TWIN_MAX = 6  # counts compared, as the planogram lint does
COUNT_TWIN_SIGMAS = 3.0
WEIGHT_TWIN_TAGS = ("weight_twin", "count_twin")  # the "weight twins" share counts either
SHOPPER = frozenset({"pick", "put", "restock"})


def static_tags(scenario: Scenario, record: TruthRecord, present: Iterable[str] = ()) -> tuple[str, ...]:
    """The tags one record carries on its own (planogram, kind, count); `present`: other SKUs that
    plausibly took part (lying on these plates now, misplaced units included)."""
    if record.kind not in SHOPPER or record.sku is None:
        return ()
    tags: list[str] = []
    item = scenario.item(record.sku)
    on_plate = {s.sku for p in record.plates for s in scenario.slots(p)} | set(present)
    others = [scenario.item(sku) for sku in sorted(on_plate) if sku != record.sku]
    # a misplaced SKU competes with every catalogue SKU (but is a same-label twin only on one plate)
    rivals = [i for i in scenario.items if i.sku != record.sku] if record.misplaced else others
    count = max(record.count, 1)

    def twin(other: Item) -> bool:
        return weight_twins(item, other) or _lint_twin(item, count, other, count)

    if any(twin(other) for other in rivals):
        tags.append("weight_twin")
    if any(twin(other) and set(item.labels) == set(other.labels) for other in others):
        tags.append("same_label_twin")
    if record.kind != "restock" and any(_count_twin(item, count, other) for other in rivals):
        tags.append("count_twin")
    if record.count > 1 and record.kind != "restock":
        tags.append("multi_unit")
    if record.misplaced:
        tags.append("misplaced")
    if len(record.plates) == 2:
        tags.append("across")
    if any(len(scenario.slots(p)) > 1 for p in record.plates):
        tags.append("mixed_plate")
    if record.kind == "restock":
        tags.append("restock")
    return tuple(tags)


def _lint_twin(item: Item, n: int, other: Item, m: int) -> bool:
    """The planogram lint's test (edge.fusion.lint): n units of `item` and m of `other` weigh alike,
    |n w1 - m w2| < 3 sqrt(n s1^2 + m s2^2 + (1 g)^2), s = the unit's spread."""
    s1, s2 = item.variation * item.unit_g, other.variation * other.unit_g
    gap = abs(n * item.unit_g - m * other.unit_g)
    return gap < COUNT_TWIN_SIGMAS * math.sqrt(n * s1**2 + m * s2**2 + 1.0)


def _count_twin(item: Item, count: int, other: Item) -> bool:
    """`count` units of `item` weigh like m units of `other` by the lint's test, for some m in 1..6 other
    than `count` (the same count is `weight_twin`)."""
    return other.sku != item.sku and any(
        m != count and _lint_twin(item, count, other, m) for m in range(1, COUNT_TWIN_MAX + 1))


def timeline_tags(records: Sequence[TruthRecord]) -> list[TruthRecord]:
    """Add the tags that depend on other records: simultaneous, back_to_back, camera_down."""
    shopper = sorted((r for r in records if r.kind in SHOPPER), key=lambda r: r.t_start)
    outages = [(r.t_start, r.t_settled) for r in records if r.kind == "camera"]
    extra: dict[int, set[str]] = {}
    for i, record in enumerate(shopper):
        for other in shopper[i + 1 :]:
            if other.t_start > record.t_settled + 1.5:
                break
            same_plate = bool(set(other.plates) & set(record.plates))
            if same_plate:
                extra.setdefault(record.id, set()).add("back_to_back")
                extra.setdefault(other.id, set()).add("back_to_back")
            elif other.t_start <= record.t_settled:
                extra.setdefault(record.id, set()).add("simultaneous")
                extra.setdefault(other.id, set()).add("simultaneous")
        if any(t0 <= record.t_settled and t1 >= record.t_start for t0, t1 in outages):
            extra.setdefault(record.id, set()).add("camera_down")
    result = []
    for record in records:
        added = extra.get(record.id)
        if added:
            record = record.with_tags(tuple(t for t in TAGS if t in added or t in record.tags))
        result.append(record)
    return result
