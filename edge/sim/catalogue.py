"""A store catalogue with detector labels and looks, and what makes two SKUs twins.

Weights are nominal pack weights including packaging. `look` is the photo family
(edge.sim.photo_rates) whose measured detector rates the statistical camera uses; labels are
the COCO labels the catalogue says identify the SKU (the detector cannot split two SKUs with
the same labels, and knows no label at all for many packs).
"""

from __future__ import annotations

from collections.abc import Iterable

from edge.sim.scenario import Item

TWIN_FRACTION = 0.02  # two SKUs within 2 % of each other: one weight change cannot tell them apart


def _item(sku: str, grams: float, labels: tuple[str, ...], look: str | None, variation: float = 0.008) -> Item:
    return Item(sku=sku, unit_g=grams, variation=variation, labels=list(labels), look=look)


# fmt: off
STORE: tuple[Item, ...] = (
    # fruit and vegetables in bags / trays (the detector says "apple" for every apple and pear)
    _item("granny-smith-1kg", 1020.0, ("apple",), "Granny-Smith"),
    _item("pink-lady-1kg", 1028.0, ("apple",), "Pink-Lady"),
    _item("royal-gala-6pk", 905.0, ("apple",), "Royal-Gala"),
    _item("red-delicious-6pk", 912.0, ("apple",), "Red-Delicious"),
    _item("golden-4pk", 640.0, ("apple",), "Golden-Delicious"),
    _item("conference-pear-4pk", 648.0, ("apple",), "Conference"),
    _item("orange-net-1kg", 1012.0, ("orange",), "Orange"),
    _item("satsuma-net-600", 610.0, ("orange",), "Satsumas"),
    _item("carrots-1kg", 1035.0, ("carrot",), "Carrots"),
    _item("banana-bunch", 880.0, ("banana",), "Banana"),
    # cartons: "bottle" when the detector sees anything
    _item("bravo-apple-1l", 1078.0, ("bottle",), "Bravo-Apple-Juice"),
    _item("bravo-orange-1l", 1084.0, ("bottle",), "Bravo-Orange-Juice"),
    _item("tropicana-apple-1l", 1095.0, ("bottle",), "Tropicana-Apple-Juice"),
    _item("juice-500", 540.0, ("bottle",), "God-Morgon-Orange-Juice"),
    _item("arla-milk-1l", 1052.0, ("bottle",), "Arla-Medium-Fat-Milk"),
    _item("oatly-1l", 1046.0, ("bottle",), "Oatly-Oat-Milk"),
    _item("alpro-soy-1l", 1040.0, ("bottle",), "Alpro-Fresh-Soy-Milk"),
    _item("arla-yoghurt-1kg", 1060.0, ("bottle",), "Arla-Natural-Yoghurt"),
    _item("yoggi-yoghurt-1kg", 1066.0, ("bottle",), "Yoggi-Strawberry-Yoghurt"),
    _item("water-500", 517.0, ("bottle",), "water_bottle"),
    # packs COCO has no class for (no label: the camera can only say "something was handled")
    _item("pasta-500", 508.0, (), None),
    _item("rice-1kg", 1012.0, (), None),
    _item("gum-pack", 32.0, (), None, 0.02),
    _item("mints-pack", 32.4, (), None, 0.02),
    _item("chocolate-bar", 52.0, (), None, 0.015),
    _item("crisps-150", 165.0, (), None, 0.012),
    _item("coffee-250", 268.0, (), None),
    _item("cereal-375", 420.0, (), None),
    _item("cola-330", 352.0, ("cup",), "can"),
    _item("tomato-can-400", 458.0, ("cup",), "can"),
    _item("milk-500", 530.0, ("bottle",), "milk_bottle"),
    _item("detergent-2kg", 2050.0, (), None),
)
# fmt: on


def weight_twins(a: Item, b: Item) -> bool:
    """Different SKUs whose units are within 2 % of each other."""
    return a.sku != b.sku and abs(a.unit_g - b.unit_g) <= TWIN_FRACTION * max(a.unit_g, b.unit_g)


def same_label_twins(a: Item, b: Item) -> bool:
    """Weight twins the detector cannot split either: the same labels (or both none)."""
    return weight_twins(a, b) and set(a.labels) == set(b.labels)


def count_twins(a: Item, b: Item, max_count: int = 6) -> tuple[int, int] | None:
    """(n, m) <= max_count with n x a within 2 % of m x b and n != m (a 1 L bottle against two 0.5 L)."""
    for n in range(1, max_count + 1):
        for m in range(1, max_count + 1):
            if n != m and abs(n * a.unit_g - m * b.unit_g) <= TWIN_FRACTION * max(n * a.unit_g, m * b.unit_g):
                return n, m
    return None


def by_sku(items: Iterable[Item]) -> dict[str, Item]:
    return {item.sku: item for item in items}
