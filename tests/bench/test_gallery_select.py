"""bench/gallery_select.py's leave-one-photo-out on constructed parts: a part that tells every family apart
scores 1 on every pair; a part that carries nothing of the family scores about chance; a photo whose events
look like the other family's costs that pair exactly its events."""

from __future__ import annotations

import numpy as np

from bench.gallery_select import PLATES, _grid_pool, evaluate, held_out

NAMES = sorted({f for pair in PLATES.values() for f in pair} | {"Granny-Smith"})


def _parts(seed: int, photos: int = 5, events: int = 4) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    family = np.repeat(np.arange(len(NAMES)), photos * events * 2)
    photo = np.tile(np.repeat(np.arange(photos), events * 2), len(NAMES))
    telling = np.eye(len(NAMES))[family] * 3 + rng.normal(0, 0.3, (len(family), len(NAMES)))
    noise = rng.normal(0, 1, (len(family), 8))
    return {"telling": np.abs(telling), "noise": noise}, family, photo


def test_a_telling_part_splits_every_pair_and_noise_does_not() -> None:
    parts, family, photo = _parts(1)
    good = evaluate(parts, family, photo, NAMES, "telling", [("telling", 1.0)])
    assert good.plates == (1.0, 1.0, 1.0, 1.0) and good.worst == 1.0
    assert good.passing == 3 + 15  # 3 apple families: 3 pairs; 6 carton families: 15 pairs
    bad = evaluate(parts, family, photo, NAMES, "noise", [("noise", 1.0)])
    assert 0.3 < bad.mean < 0.7 and bad.passing < 4
    mixed = evaluate(parts, family, photo, NAMES, "both", [("telling", 1.0), ("noise", 0.05)])
    assert mixed.floats == len(NAMES) + 8 and mixed.mean > 0.95


def test_a_photo_that_looks_like_the_twin_costs_its_events() -> None:
    parts, family, photo = _parts(2)
    milk, other = NAMES.index("Arla-Medium-Fat-Milk"), NAMES.index("Arla-Standard-Milk")
    odd = (family == milk) & (photo == 0)
    parts["telling"][odd] = parts["telling"][np.flatnonzero(family == other)[: odd.sum()]]
    row = evaluate(parts, family, photo, NAMES, "telling", [("telling", 1.0)])
    assert row.plates[3] == 1 - 4 / (2 * 5 * 4)  # one photo's 4 events of the pair's 40 went to the twin
    assert row.plates[:3] == (1.0, 1.0, 1.0)


def test_grid_pooling_of_the_whole_box() -> None:
    fmap = np.arange(10 * 10 * 2, dtype=np.float32).reshape(10, 10, 2)
    assert np.allclose(_grid_pool(fmap, 1), fmap.reshape(-1, 2).mean(axis=0))
    quads = _grid_pool(fmap, 2).reshape(2, 2, 2)
    assert np.allclose(quads[1, 0], fmap[5:, :5].reshape(-1, 2).mean(axis=0))


def test_held_out_classifies_the_test_events_by_the_teach_centres() -> None:
    teach, test = _parts(3), _parts(4)
    row = held_out((*teach, NAMES), (*test, NAMES), "telling", [("telling", 1.0)])
    assert row.plates == (1.0, 1.0, 1.0, 1.0) and row.passing == 18
    swapped = (dict(test[0]), test[1], test[2])
    milk, other = NAMES.index("Arla-Medium-Fat-Milk"), NAMES.index("Arla-Standard-Milk")
    swapped[0]["telling"] = swapped[0]["telling"].copy()
    swapped[0]["telling"][test[1] == milk] = test[0]["telling"][test[1] == other]  # milks that look like the twin
    assert held_out((*teach, NAMES), (*swapped, NAMES), "telling", [("telling", 1.0)]).plates[3] == 0.5
