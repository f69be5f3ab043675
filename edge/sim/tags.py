"""Benchmark classes of each true interaction, from the planogram and the timeline.

A tag says why an interaction is hard; the fusion benchmark reports one table row per tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edge.sim.catalogue import same_label_twins, weight_twins
from edge.sim.scenario import Scenario
from edge.sim.truth import TruthRecord

TAGS = (
    "weight_twin",  # another SKU planned on these plates, or lying there now (for a misplaced put:
    # any catalogue SKU), is within 2 % of this one
    "same_label_twin",  # one on these plates has the same detector labels: the camera cannot split them
    "multi_unit",  # a pick or put of 2 or more units at once
    "misplaced",  # a put of a SKU the planogram does not place on these plates
    "across",  # one item lying on two plates
    "simultaneous",  # another interaction on another plate overlaps in time
    "back_to_back",  # another interaction on the same plate starts within 1.5 s of this one settling
    "camera_down",  # the camera was down during (part of) the interaction
    "mixed_plate",  # the plate holds more than one SKU in the planogram
    "restock",
)
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
    if any(weight_twins(item, other) for other in rivals):
        tags.append("weight_twin")
    if any(same_label_twins(item, other) for other in others):
        tags.append("same_label_twin")
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
