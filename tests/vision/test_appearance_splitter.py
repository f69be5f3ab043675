"""The per-plate splitter: abstains until its leave-one-out check passes, votes only between the candidates
it is given, cleans likely wrong labels, refuses contradicting examples once trusted."""

from __future__ import annotations

import numpy as np
import pytest

from edge.vision.appearance_splitter import AppearanceSplitter, PlateSplitter, SplitterSettings

DIM = 16


def _cloud(centre: int, n: int, spread: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM)
    base[centre] = 1.0
    rows = base + rng.normal(0, spread, (n, DIM))
    return [(r / np.linalg.norm(r)).astype(np.float32) for r in rows]


def _probe(centre: int, seed: int = 99) -> np.ndarray:
    return _cloud(centre, 1, 0.1, seed)[0]


def test_separable_plate_is_trusted_and_votes_right() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)})
    report = splitter.report
    assert report.trusted and report.accuracy == pytest.approx(1.0) and report.needed_more == 0
    assert report.examples == {"A": 30, "B": 30}
    vote = splitter.vote(_probe(1), ["A", "B"])
    assert vote is not None and vote.sku == "B" and vote.candidates == ("A", "B")
    assert 0.9 < vote.accuracy < 1.0  # Laplace-smoothed: never a certainty
    assert report.to_json()["trusted"] is True


def test_abstains_below_its_trust_threshold() -> None:
    # the same cloud under two names: leave-one-out is a coin toss, far below 0.98
    same = _cloud(0, 40, 0.3, 5)
    splitter = PlateSplitter("p1", {"A": same[:20], "B": same[20:]})
    assert not splitter.report.trusted
    assert splitter.report.accuracy is not None and splitter.report.accuracy < 0.98
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    # a stricter threshold turns a trusted plate into an abstaining one
    clean = {"A": _cloud(0, 20, 0.45, 1), "B": _cloud(1, 20, 0.45, 2)}
    loose = PlateSplitter("p1", clean, SplitterSettings(min_accuracy=0.5))
    strict = PlateSplitter("p1", clean, SplitterSettings(min_accuracy=1.01))
    assert loose.report.trusted and loose.vote(_probe(0), ["A", "B"]) is not None
    assert not strict.report.trusted and strict.vote(_probe(0), ["A", "B"]) is None


def test_too_few_examples_says_how_many_more() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 4, 0.1, 1), "B": _cloud(1, 12, 0.1, 2)})
    assert not splitter.report.trusted and splitter.report.accuracy is None
    assert splitter.report.needed_more == 6
    assert "A needs 6 more" in splitter.report.reason
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    lonely = PlateSplitter("p2", {"A": _cloud(0, 30, 0.1, 1)})
    assert not lonely.report.trusted and "fewer than two" in lonely.report.reason


def test_a_perfect_but_short_record_is_not_trusted_yet() -> None:
    # 20 + 20 leave-one-out trials without an error: smoothed 41/42 = 0.976 < 0.98, so a lucky start cannot pass
    splitter = PlateSplitter("p1", {"A": _cloud(0, 20, 0.1, 1), "B": _cloud(1, 20, 0.1, 2)})
    report = splitter.report
    assert report.accuracy == pytest.approx(1.0) and not report.trusted
    assert report.needed_more == 4  # (0.98 * 42 - 41) / 0.02 = 8 more trials: 4 per SKU (49/50 = 0.98)
    assert splitter.vote(_probe(0), ["A", "B"]) is None
    grown = PlateSplitter("p1", {"A": _cloud(0, 25, 0.1, 1), "B": _cloud(1, 25, 0.1, 2)})
    assert grown.report.trusted


def test_votes_only_between_known_candidates() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2),
                                    "C": _cloud(2, 30, 0.1, 3)})
    assert splitter.report.trusted
    vote = splitter.vote(_probe(2), ["A", "B"])  # C is not plausible by weight: the vote stays within A, B
    assert vote is None or vote.sku in ("A", "B")
    assert splitter.vote(_probe(0), ["A", "UNKNOWN"]) is None  # a candidate it has never seen
    assert splitter.vote(_probe(0), ["A"]) is None             # nothing to split


def test_ambiguous_crop_abstains_on_margin() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                             SplitterSettings(min_margin=0.1))
    assert splitter.vote(_probe(0), ["A", "B"]) is not None
    middle = np.zeros(DIM, np.float32)
    middle[0] = middle[1] = np.sqrt(0.5)
    assert splitter.vote(middle, ["A", "B"]) is None


def test_cleaning_removes_wrong_labels_and_keeps_trust() -> None:
    a, b = _cloud(0, 50, 0.1, 1), _cloud(1, 50, 0.1, 2)
    poisoned = {"A": a + b[:2], "B": b[2:]}  # two B crops labelled A
    guarded = PlateSplitter("p1", poisoned)
    naive = PlateSplitter("p1", poisoned, SplitterSettings(clean=False, trim=1.0))
    assert guarded.report.cleaned == {"A": 2}
    assert guarded.report.trusted and guarded.report.accuracy == pytest.approx(1.0)
    assert naive.report.accuracy is not None and naive.report.accuracy < 0.99


def test_a_trusted_plate_refuses_examples_it_confidently_contradicts() -> None:
    splitter = PlateSplitter("p1", {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)})
    assert splitter.admits("A", _probe(0))
    assert not splitter.admits("A", _probe(1))
    assert splitter.admits("NEW", _probe(1))  # a SKU it knows nothing of: nothing to contradict
    untrusted = PlateSplitter("p1", {"A": _cloud(0, 3, 0.1, 1), "B": _cloud(1, 3, 0.1, 2)})
    assert untrusted.admits("A", _probe(1))   # before trust, the weight's or the human's label stands


def test_all_plates_and_reports() -> None:
    splitter = AppearanceSplitter({"p2": {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                                   "p1": {"C": _cloud(2, 5, 0.1, 3)}})
    assert [r.plate for r in splitter.reports()] == ["p1", "p2"]
    assert splitter.vote("p2", _probe(0), ["A", "B"]) is not None
    assert splitter.vote("p9", _probe(0), ["A", "B"]) is None


def test_bad_gallery_is_refused() -> None:
    with pytest.raises(ValueError, match="equal-length"):
        PlateSplitter("p1", {"A": [np.ones(4, np.float32), np.ones(5, np.float32)], "B": _cloud(1, 3, 0.1, 2)})


def test_a_candidate_from_another_plate_is_voted_on_with_its_own_examples() -> None:
    splitter = AppearanceSplitter({"p1": {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
                                   "p2": {"C": _cloud(2, 30, 0.1, 3), "D": _cloud(3, 30, 0.1, 4)}})
    vote = splitter.vote("p1", _probe(2), ["A", "B", "C"])  # C lives on p2: an unseen put-back, picked here
    assert vote is not None and vote.sku == "C" and vote.candidates == ("A", "B", "C")
    partial = splitter.vote("p1", _probe(1), ["A", "B", "NEVER-SEEN"])  # no examples anywhere: left out
    assert partial is not None and partial.sku == "B" and partial.candidates == ("A", "B")
    assert splitter.vote("p1", _probe(1), ["A", "NEVER-SEEN"]) is None


def test_no_vote_on_a_plate_whose_own_check_failed_even_with_a_trusted_pair() -> None:
    same = _cloud(0, 60, 0.3, 5)  # p1: A and B look alike, its own check fails
    a, c, d = same[:30], _cloud(2, 30, 0.1, 3), _cloud(3, 30, 0.1, 4)
    galleries = {"p1": {"A": a, "B": same[30:]}, "p2": {"C": c, "D": d}, "p3": {"A": _cloud(0, 30, 0.1, 6)}}
    splitter = AppearanceSplitter(galleries)
    assert not splitter.plates["p1"].report.trusted and splitter.plates["p2"].report.trusted
    assert not splitter.plates["p3"].report.trusted  # one SKU only: nothing of its own to check
    probe = _probe(2)  # a C put back unseen on p1 (or on p3), plausible by weight against A
    pair = PlateSplitter("p1", {"A": a, "C": c})  # the pair's own check passes and it would vote C
    assert pair.report.trusted and pair.vote(probe, ("A", "C")) is not None
    assert {plate for plate, _, _ in splitter.pairs()} == {"p2"}  # nothing to prepare for p1, p3
    for plate, candidates in (("p1", ("A", "C")), ("p1", ("A", "B", "C")), ("p1", ("A", "B")),
                              ("p3", ("A", "C")), ("p3", ("A", "C", "D"))):
        assert splitter.vote(plate, probe, candidates) is None, (plate, candidates)
    assert splitter.pair_builds == 0  # nor did the refused votes build their pairs
    on_trusted = splitter.vote("p2", _probe(0), ("A", "C", "D"))  # the same foreign rival on a trusted plate
    assert on_trusted is not None and on_trusted.sku == "A"


def _shelf() -> dict[str, dict[str, list[np.ndarray]]]:
    """Three plates; A lives on p1 and p3 (its examples from both), B's p1 examples are few, C is on p2 only."""
    return {"p1": {"A": _cloud(0, 30, 0.1, 1), "B": _cloud(1, 30, 0.1, 2)},
            "p2": {"C": _cloud(2, 30, 0.1, 3), "D": _cloud(3, 30, 0.25, 4), "E": _cloud(4, 26, 0.1, 5)},
            "p3": {"A": _cloud(0, 12, 0.15, 6), "F": _cloud(5, 30, 0.1, 7), "G": []}}


def _reference_vote(galleries: dict[str, dict[str, list[np.ndarray]]], plate: str, descriptor: np.ndarray,
                    candidates: tuple[str, ...]) -> tuple[str, float, float] | None:
    """The cross-plate vote as documented, each pair's check built afresh (the plate's examples of a SKU, else
    all of its examples)."""
    anywhere: dict[str, list[np.ndarray]] = {}
    for gallery in galleries.values():
        for sku, rows in gallery.items():
            anywhere.setdefault(sku, []).extend(rows)
    own = galleries[plate]
    if not PlateSplitter(plate, own).report.trusted:
        return None  # never a vote on a plate whose own check did not pass
    known = sorted({c for c in candidates if anywhere.get(c)})
    for winner in known:
        duels = [PlateSplitter(plate, {s: own[s] if s in own else anywhere[s] for s in sorted((winner, other))})
                 .vote(descriptor, (winner, other)) for other in known if other != winner]
        won = [v for v in duels if v is not None and v.sku == winner]
        if len(known) >= 2 and len(won) == len(duels):
            accuracy = max(1.0 - (len(known) - 1) * (1.0 - min(v.accuracy for v in won)), 1.0 / len(known))
            return winner, accuracy, min(v.margin for v in won)
    return None


def _asks() -> list[tuple[str, np.ndarray, tuple[str, ...]]]:
    rng = np.random.default_rng(11)
    candidate_sets = [("A", "B", "C"), ("A", "C"), ("C", "F"), ("A", "B", "NEVER"), ("B", "D", "E"),
                      ("A", "F", "G"), ("A", "B", "C", "D", "E", "F")]
    asks = []
    for plate in ("p1", "p2", "p3"):
        for candidates in candidate_sets:
            for centre in range(6):
                asks.append((plate, _probe(centre, seed=int(rng.integers(1000))), candidates))
            mixed = _probe(0) + _probe(2)  # between two looks: pairs abstain on margin
            asks.append((plate, mixed / np.linalg.norm(mixed), candidates))
    return asks


def test_prepared_and_lazy_pairs_give_the_same_votes() -> None:
    galleries = _shelf()
    lazy, prepared = AppearanceSplitter(galleries), AppearanceSplitter(galleries)
    assert prepared.prepare() > 0
    voted = 0
    for plate, descriptor, candidates in _asks():
        a, b = lazy.vote(plate, descriptor, candidates), prepared.vote(plate, descriptor, candidates)
        assert a == b, (plate, candidates)
        if set(candidates) <= set(galleries[plate]):
            continue  # the plate's own splitter, not a pair vote
        expected = _reference_vote(galleries, plate, descriptor, candidates)
        assert (None if a is None else (a.sku, a.accuracy, a.margin)) == expected, (plate, candidates)
        voted += a is not None
    assert voted > 20  # the comparison covered real votes, not only abstentions


def test_after_prepare_a_vote_builds_nothing() -> None:
    splitter = AppearanceSplitter(_shelf())
    built = splitter.prepare()
    assert built == splitter.pair_builds > 0
    assert splitter.prepare() == 0  # all built already
    for plate, descriptor, candidates in _asks():
        splitter.vote(plate, descriptor, candidates)
    assert splitter.pair_builds == built
    fresh = AppearanceSplitter(_shelf())  # without prepare the first votes build them
    fresh.vote("p1", _probe(2), ("A", "B", "C"))
    assert fresh.pair_builds > 0
    # the same examples give one check whichever plate asks: C against F, from p1, p2 or p3
    for plate in ("p1", "p2", "p3"):
        fresh.vote(plate, _probe(5), ("C", "F"))
    assert fresh._pair("p1", "C", "F") is fresh._pair("p2", "C", "F") is fresh._pair("p3", "C", "F")


def test_prepare_is_bounded_and_can_be_cancelled() -> None:
    splitter = AppearanceSplitter(_shelf())
    assert splitter.prepare(limit=2) == 2 and splitter.pair_builds == 2
    assert splitter.prepare(cancelled=lambda: True) == 0
    other = AppearanceSplitter(_shelf())  # pairs no vote can ask for are passed over
    assert other.prepare([("p1", "A", "C"), ("p9", "A", "C"), ("p1", "A", "NEVER"), ("p1", "A", "A")]) == 1
    assert other.prepare([("p1", "C", "A")]) == 0  # either order names the same pair


def test_pairs_are_the_plausible_rivals_by_unit_weight_nearest_first() -> None:
    splitter = AppearanceSplitter(_shelf())
    everything = splitter.pairs()
    assert ("p1", "A", "C") in everything and ("p2", "A", "F") in everything
    assert not any("G" in pair for pair in everything)  # no examples anywhere: never in a vote
    weights = {"A": (182.0, 2.0), "B": (185.0, 2.0), "C": (183.0, 2.0), "D": (91.0, 1.5), "E": (3000.0, 5.0),
               "F": (5000.0, 3.0)}  # six A weigh 1092 g at most
    rivals = splitter.pairs(weights)
    assert ("p1", "A", "C") in rivals and ("p1", "A", "D") in rivals  # two D weigh one A
    assert not any(plate == "p3" for plate, _, _ in rivals)  # p3's own check fails: no vote there to prepare
    assert not any({"A", "E"} <= set(pair) or {"A", "F"} <= set(pair) for pair in rivals)
    assert rivals.index(("p1", "A", "C")) < rivals.index(("p1", "B", "C"))  # 1 g apart before 2 g apart
    splitter.prepare(rivals)
    assert splitter.vote("p1", _probe(2), ("A", "B", "C")) is not None
    built = splitter.pair_builds
    splitter.vote("p1", _probe(5), ("A", "F"))  # not a rival by weight: still built, lazily
    assert splitter.pair_builds == built + 1
